/* Checkout: the Stripe card form, and the "confirming your payment" wait.
 *
 * Served from our own origin so the Content-Security-Policy needs no inline script. Everything
 * it needs comes from data- attributes on the page. The browser never decides that a student is
 * enrolled: the payment webhook does; this script only takes the student to the page that shows it.
 */
(function () {
  "use strict";

  const SUCCEEDED = ["succeeded", "processing", "requires_capture"];
  const POLL_EVERY_MS = 1000;
  const PATIENCE_POLLS = 30;

  function showError(box, message) {
    box.textContent = message || "Your card could not be charged. Please try another card.";
    box.hidden = false;
  }

  function startCardForm(form) {
    const errorBox = document.getElementById("payment-error");
    const button = document.getElementById("pay-button");
    if (typeof Stripe !== "function") {
      showError(errorBox, "The card form could not load. Check your connection and reload the page.");
      button.disabled = true;
      return;
    }
    const stripe = Stripe(form.dataset.publishableKey);
    const card = stripe.elements().create("card");
    card.mount("#card-element");

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      errorBox.hidden = true;
      button.disabled = true;
      const label = button.textContent;
      button.textContent = "Processing…";
      let result;
      try {
        result = await stripe.confirmCardPayment(form.dataset.clientSecret, {
          payment_method: { card: card },
        });
      } catch (error) {
        result = { error: { message: error && error.message } };
      }
      const intent = result && result.paymentIntent;
      if (result && !result.error && intent && SUCCEEDED.includes(intent.status)) {
        window.location.assign(form.dataset.doneUrl);
        return;
      }
      const declined = intent && intent.last_payment_error && intent.last_payment_error.message;
      showError(errorBox, (result && result.error && result.error.message) || declined);
      button.disabled = false;
      button.textContent = label;
    });
  }

  function waitForConfirmation(box) {
    let polls = 0;
    async function poll() {
      polls += 1;
      if (polls === PATIENCE_POLLS) {
        const note = document.getElementById("still-waiting");
        if (note) note.hidden = false;
      }
      try {
        const response = await fetch(box.dataset.statusUrl, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (response.ok) {
          const body = await response.json();
          if (body.status !== "pending_payment") {
            window.location.reload();
            return;
          }
        } else if (response.status === 401 || response.status === 403) {
          return; // signed out or not theirs: stop asking
        }
      } catch (error) {
        // A network blip: try again on the next tick.
      }
      window.setTimeout(poll, POLL_EVERY_MS);
    }
    window.setTimeout(poll, POLL_EVERY_MS);
  }

  const form = document.getElementById("payment-form");
  if (form) startCardForm(form);
  const confirming = document.getElementById("confirming");
  if (confirming) waitForConfirmation(confirming);
})();
