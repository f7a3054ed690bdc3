// Behaviour pages ask for with data attributes, so that no page needs an
// inline script or an on* attribute: the Content-Security-Policy forbids
// both (script-src 'self').
//   data-submit-on-change  on a <select>: submit its form when it changes
//   data-print             on a button: print the page
document.addEventListener("change", function (e) {
  if (e.target.matches("[data-submit-on-change]") && e.target.form) {
    e.target.form.submit();
  }
});
document.addEventListener("click", function (e) {
  if (e.target.closest("[data-print]")) {
    window.print();
  }
});
