// Buttons marked data-print print the page (a script file: the CSP allows no inline handlers).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
