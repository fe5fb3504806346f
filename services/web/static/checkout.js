/* Checkout of any purchase (an enrollment, a package of tutoring hours): the Stripe card form,
 * and the "confirming your payment" wait.
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

  /* Stripe.js tokenizes the card (the number never reaches us); our server attaches it to the
   * PaymentIntent and confirms; a card that needs 3-D Secure is then authenticated in the
   * browser with confirmCardPayment. Returns null when paid, or the message to show. */
  async function pay(stripe, card, form) {
    const tokenized = await stripe.createToken(card);
    if (tokenized.error || !tokenized.token) {
      return tokenized.error && tokenized.error.message;
    }
    const response = await fetch(form.dataset.cardUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": form.dataset.csrfToken,
      },
      body: JSON.stringify({ token: tokenized.token.id }),
    });
    const answer = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      return answer.detail;
    }
    if (answer.status === "requires_action") {
      const result = await stripe.confirmCardPayment(answer.client_secret);
      const intent = result && result.paymentIntent;
      if (result && !result.error && intent && SUCCEEDED.includes(intent.status)) {
        return null;
      }
      const failed = intent && intent.last_payment_error && intent.last_payment_error.message;
      return (result && result.error && result.error.message) || failed;
    }
    return SUCCEEDED.includes(answer.status) ? null : answer.detail;
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
      let message;
      try {
        message = await pay(stripe, card, form);
      } catch (error) {
        message = error && error.message;
      }
      if (message === null) {
        window.location.assign(form.dataset.doneUrl);
        return;
      }
      showError(errorBox, message);
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
