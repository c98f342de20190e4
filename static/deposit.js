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

// The search by name ("Je ne connais pas mon SIRET") lives inside the deposit form, whose
// default button files the deposit: Enter in its inputs searches instead.
document.addEventListener("keydown", function (event) {
  var input = event.target;
  if (event.key !== "Enter" || input.tagName !== "INPUT" || !input.closest("#siret-search-details")) {
    return;
  }
  event.preventDefault();
  var button = document.getElementById("siret-search-button");
  if (button) {
    button.click();
  }
});

// While typing, a name under 3 characters asks nothing (the search needs 3); "Rechercher"
// still asks, and the server says why it searched nothing.
document.addEventListener("htmx:beforeRequest", function (event) {
  var source = event.detail.elt;
  if (source && source.id === "search-nom" && source.value.trim().length < 3) {
    event.preventDefault();
  }
});
