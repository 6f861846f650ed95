// 全选: tick or untick every claimable row of the inbox.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("pick-all");
  if (!all) return;
  const boxes = () => document.querySelectorAll(`input[name="${all.dataset.picks}"]`);
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
});
