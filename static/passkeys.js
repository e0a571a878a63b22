// Passkeys — one of HR Portal's two scripts. It asks the server for a challenge, hands it to the
// browser's passkey prompt (WebAuthn), and sends the answer with an ordinary form submission, so
// the server answers with a page as it does for every other form. The rest of the app works
// without JavaScript; without it (or without WebAuthn) the passkey forms stay hidden.
(function () {
  "use strict";

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeIds(list) {
    (list || []).forEach(function (credential) {
      credential.id = fromBase64url(credential.id);
    });
  }

  // The server's options (JSON, binary fields in base64url) as the browser's API wants them.
  function creationOptions(options) {
    var publicKey = options.publicKey;
    publicKey.challenge = fromBase64url(publicKey.challenge);
    publicKey.user.id = fromBase64url(publicKey.user.id);
    decodeIds(publicKey.excludeCredentials);
    return { publicKey: publicKey };
  }

  function requestOptions(options) {
    var publicKey = options.publicKey;
    publicKey.challenge = fromBase64url(publicKey.challenge);
    decodeIds(publicKey.allowCredentials);
    return { publicKey: publicKey };
  }

  // The browser's answer as the server reads it. Only the credProps extension result is sent
  // back: it is all the server asks for.
  function registrationAnswer(credential) {
    var results = credential.getClientExtensionResults();
    return JSON.stringify({
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toBase64url(credential.response.clientDataJSON),
        attestationObject: toBase64url(credential.response.attestationObject)
      },
      extensions: results.credProps ? { credProps: results.credProps } : {}
    });
  }

  function signInAnswer(credential) {
    var response = credential.response;
    return JSON.stringify({
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toBase64url(response.authenticatorData),
        clientDataJSON: toBase64url(response.clientDataJSON),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null
      },
      extensions: {}
    });
  }

  function refusedMessage(status) {
    if (status === 429) return "Too many attempts from your network. Please wait a few minutes and try again.";
    if (status === 403) return "This page has expired. Reload it and try again.";
    return "Something went wrong (" + status + "). Please try again.";
  }

  function promptMessage(error) {
    if (error && error.name === "NotAllowedError") return "The passkey prompt was closed or timed out. Try again when you are ready.";
    if (error && error.name === "InvalidStateError") return "This authenticator already holds a passkey for your account.";
    if (error && error.name === "SecurityError") return "Passkeys do not work at this address. Open the portal at its usual address (for local use http://localhost:8000).";
    return (error && error.message) || "The passkey could not be used.";
  }

  function showError(message) {
    var box = document.getElementById("passkey-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  // Posts the form's fields to its challenge address; the options, or an Error saying why not.
  async function fetchChallenge(form) {
    var response = await fetch(form.dataset.challenge, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    });
    var body = null;
    try {
      body = await response.json();
    } catch (ignored) {
      body = null;
    }
    if (!response.ok || !body || !body.options) {
      var refused = new Error((body && body.error) || refusedMessage(response.status));
      refused.name = "Refused";
      throw refused;
    }
    return body;
  }

  // Runs one ceremony from a form: challenge, prompt, then the form's own submission with the
  // answer. `ask` calls the browser; `answer` turns its credential into JSON.
  function attach(form, ask, answer, beforeSubmit) {
    var button = form.querySelector("button[type=submit]");
    form.hidden = false;
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (!form.reportValidity()) return;
      button.disabled = true;
      try {
        var challenge = await fetchChallenge(form);
        var credential = await ask(challenge.options);
        form.elements.ceremony.value = challenge.ceremony;
        form.elements.credential.value = answer(credential);
        beforeSubmit(form);
        form.submit();
      } catch (error) {
        showError(error && error.name === "Refused" ? error.message : promptMessage(error));
        button.disabled = false;
      }
    });
  }

  function start() {
    var register = document.getElementById("passkey-register");
    var signIn = document.getElementById("passkey-sign-in");
    if (!register && !signIn) return;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      if (register) showError("This browser cannot create passkeys.");
      return;
    }
    if (register) {
      attach(
        register,
        function (options) { return navigator.credentials.create(creationOptions(options)); },
        registrationAnswer,
        function (form) {
          // The name, password and code were sent with the challenge; the answer carries none.
          ["name", "password", "code"].forEach(function (field) {
            if (form.elements[field]) form.elements[field].disabled = true;
          });
        }
      );
    }
    if (signIn) {
      attach(
        signIn,
        function (options) { return navigator.credentials.get(requestOptions(options)); },
        signInAnswer,
        function (form) {
          var remember = document.querySelector("#login-form input[name=remember]");
          form.elements.remember.value = remember && remember.checked ? "true" : "false";
        }
      );
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
