// When the SIRET input looks up (issue 11): htmx filters would need eval, which the CSP
// forbids, so this script fires the input's hx-trigger, "siret-lookup":
// - at once, with no debounce, when the field holds a complete, valid SIRET (typed or pasted);
// - 300 ms after the last keystroke when the value can only be wrong (a bad key, letters,
//   too many digits), so the server says why, without calling the API;
// - on change (leaving the field) for anything not sent yet.
// Nothing is sent while the first 13 digits are typed: the aria-live status line announces
// results, not keystrokes. A lookup in flight for a SIRET the field no longer holds is
// aborted, and hx-sync="this:replace" lets a corrected SIRET replace it.
(function () {
  "use strict";
  // core/siret.py's separators: Python's \s, dots and no-break spaces (nothing more).
  var SEPARATORS = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.]+/g;

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var digit = +digits.charAt(digits.length - 1 - i);
      if (i % 2) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  // "typing" (up to 13 digits), "ready" (a valid SIRET) or "wrong"; mirrors core/siret.py
  // and python-stdnum: La Poste's établissements (SIREN 356000000, except its head office)
  // use a digit sum multiple of 5 instead of the Luhn key.
  function state(number) {
    if (/^[0-9]{0,13}$/.test(number)) return "typing";
    if (!/^[0-9]{14}$/.test(number)) return "wrong";
    var key;
    if (number.indexOf("356000000") === 0 && number !== "35600000000048") {
      key = number.split("").reduce(function (sum, c) { return sum + +c; }, 0) % 5 === 0;
    } else {
      key = luhn(number);
    }
    return key && luhn(number.slice(0, 9)) ? "ready" : "wrong";
  }

  function send(input, number) {
    clearTimeout(input.siretTimer);
    input.siretSent = number;
    input.dispatchEvent(new CustomEvent("siret-lookup"));
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.id !== "f-siret") return;
    var number = input.value.replace(SEPARATORS, "");
    if (number === input.siretSent) return; // a separator added or removed: same lookup
    clearTimeout(input.siretTimer);
    var now = state(number);
    if (now === "ready") {
      send(input, number); // replaces any lookup in flight (hx-sync)
      return;
    }
    // The field no longer holds what is being looked up: its answer must not fill the form.
    input.dispatchEvent(new CustomEvent("htmx:abort", { bubbles: true }));
    input.siretSent = null;
    if (now === "wrong") {
      input.siretTimer = setTimeout(function () { send(input, number); }, 300);
    }
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.id !== "f-siret") return;
    var number = input.value.replace(SEPARATORS, "");
    if (number !== input.siretSent) send(input, number);
  });
})();
