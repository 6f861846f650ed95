// 材料清单: show the chosen file's name beside the picker (the browser's own text may not be Chinese).
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches || !input.matches(".att-input")) return;
  const shown = input.closest(".att-pick").querySelector(".att-chosen");
  shown.textContent = input.files.length ? input.files[0].name : "未选择文件";
});
