// The deposit form's one script (the CSP forbids inline script; htmx runs without eval).
// htmx swaps no error answer. A lookup refused for an expired session (403) still carries
// its French status line, retargeted by the server at the aria-live #siret-status: show it.
// Nothing else is swapped, so nothing the applicant typed is lost.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status === 403 && xhr.getResponseHeader("HX-Retarget") === "#siret-status") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
