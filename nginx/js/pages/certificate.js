// How to install a .p12 so the browser presents it. Shown on its own route, and in place of the
// app when the service did not see a usable certificate. Same content as docs/webapp.md.

import { h } from "../dom.js";

function code(text, id = null) {
  return h("pre", { class: "code", tabindex: "0", id }, h("code", {}, text));
}

function steps(...items) {
  return h("ol", {}, items.map((item) => h("li", {}, item)));
}

/** Why the app cannot show anything yet, from the whoami failure. */
function diagnosis(failure) {
  if (!failure) return null;
  if (failure.dn) {
    const unknown = failure.code === "certificate_unknown";
    return [
      h("h1", {}, unknown ? "Your certificate is not registered" : "Your certificate was not accepted"),
      h("p", { class: "msg msg-error", role: "alert", id: "nocert-reason" }, failure.message),
      h("dl", { class: "facts" },
        h("dt", {}, "Certificate subject"), h("dd", { class: "dn" }, failure.dn),
        failure.issuerDn ? [h("dt", {}, "Issued by"), h("dd", { class: "dn" }, failure.issuerDn)] : null),
      failure.advice ? h("p", {}, failure.advice) : null,
      failure.grantCommand
        ? [h("p", {}, "The administrator's command:"), code(failure.grantCommand, "grant-command")]
        : null,
    ];
  }
  if (failure.status === 401 || failure.status === 403) {
    return [
      h("h1", {}, "No client certificate"),
      h(
        "p",
        { class: "msg msg-error", role: "alert", id: "nocert-reason" },
        "Your browser did not present a client certificate that this site accepts, so the supply service cannot tell who you are.",
      ),
      failure.message ? h("p", { class: "muted" }, `The service said: ${failure.message}`) : null,
      h("p", {}, "Install the .p12 file your administrator gave you, as described below, then reload this page."),
    ];
  }
  const answered = failure.status ? `the service answered HTTP ${failure.status}` : "no answer arrived";
  return [
    h("h1", {}, "The supply service is not answering"),
    h(
      "p",
      { class: "msg msg-error", role: "alert", id: "nocert-reason" },
      `${failure.message} If it lasts, tell your administrator (${answered}).`,
    ),
  ];
}

export function certificatePage(failure) {
  // A valid certificate that logs nobody in needs an administrator, not installation steps; so
  // does a service that is down (nginx checked the certificate before it answered 5xx).
  if (failure?.dn || failure?.status >= 500) return diagnosis(failure);
  const origin = window.location.origin;
  return [
    diagnosis(failure) || h("h1", {}, "Install your certificate"),
    h(
      "p",
      {},
      "You sign in with a personal certificate, not a password. Your administrator gives you two files: ",
      h("strong", {}, "your .p12"),
      " (your certificate and private key, protected by a password they tell you separately) and ",
      h("strong", {}, "ca.pem"),
      " (the authority that signed this site's certificate, so your browser trusts it).",
    ),
    h(
      "p",
      {},
      "After importing, restart the browser and open ",
      h("span", { class: "mono" }, origin + "/"),
      ". The browser asks which certificate to use: pick yours.",
    ),

    h("section", { "aria-labelledby": "cert-chrome" },
      h("h2", { id: "cert-chrome" }, "Chrome or Chromium on Linux"),
      steps(
        "Settings → Privacy and security → Security → Manage certificates.",
        "Your certificates → Import: choose the .p12 and enter its password.",
        "Authorities → Import: choose ca.pem and tick “Trust this certificate for identifying websites”.",
      ),
      h("p", {}, "Or from a terminal (Chromium reads the NSS database in your home directory):"),
      code(
        'pk12util -i YOUR.p12 -d sql:$HOME/.pki/nssdb\ncertutil -A -d sql:$HOME/.pki/nssdb -n "tactical-edge CA" -t "C,," -i ca.pem',
      ),
      h("p", {}, "Chrome on Windows and macOS uses the system store: follow those sections."),
    ),

    h("section", { "aria-labelledby": "cert-firefox" },
      h("h2", { id: "cert-firefox" }, "Firefox (any system)"),
      steps(
        "Settings → Privacy & Security → Certificates → View Certificates.",
        "Your Certificates → Import: choose the .p12 and enter its password.",
        "Authorities → Import: choose ca.pem and tick “Trust this CA to identify websites”.",
      ),
    ),

    h("section", { "aria-labelledby": "cert-macos" },
      h("h2", { id: "cert-macos" }, "macOS (Safari, Chrome)"),
      steps(
        "Double-click the .p12: Keychain Access imports it into the login keychain after you enter its password.",
        "Double-click ca.pem, then in Keychain Access open it and set “When using this certificate” to “Always Trust”.",
      ),
      h("p", {}, "From a terminal:"),
      code("security import YOUR.p12 -k ~/Library/Keychains/login.keychain-db\nsecurity add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db ca.pem"),
      h("p", {}, "If macOS refuses the password of a correct file, ask for a .p12 exported with --legacy (older macOS versions only read that encoding)."),
    ),

    h("section", { "aria-labelledby": "cert-windows" },
      h("h2", { id: "cert-windows" }, "Windows (Edge, Chrome)"),
      steps(
        "Double-click the .p12: the Certificate Import Wizard opens. Choose Current User, enter the password, and let it place the certificate automatically (Personal).",
        "Double-click ca.pem (rename it ca.crt if needed) → Install Certificate → Current User → Trusted Root Certification Authorities.",
      ),
      h("p", {}, "From PowerShell:"),
      code(
        "Import-PfxCertificate -FilePath YOUR.p12 -CertStoreLocation Cert:\\CurrentUser\\My -Password (Read-Host -AsSecureString)\nImport-Certificate -FilePath ca.pem -CertStoreLocation Cert:\\CurrentUser\\Root",
      ),
      h("p", {}, "Older Windows versions need a .p12 exported with --legacy."),
    ),

    h("section", { "aria-labelledby": "cert-curl" },
      h("h2", { id: "cert-curl" }, "curl and scripts"),
      h("p", {}, "Keep the password out of the command line (other users can see it there): put it in a curl config file readable only by you."),
      code(
        `umask 077\ncat > me.curlrc <<'EOF'\ncert-type = "P12"\ncert = "YOUR.p12:PASSWORD"\ncacert = "ca.pem"\nEOF\ncurl -K me.curlrc ${origin}/supply/api/whoami/`,
      ),
    ),
  ];
}
