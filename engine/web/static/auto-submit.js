// A select marked data-auto-submit sends its form as soon as a choice is made (CSP allows no
// inline handlers, so the behaviour lives here).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-auto-submit") && field.form) {
    field.form.submit();
  }
});
