// The shell: ask the service who we are once, then route #/page to a page module.

import { render } from "./dom.js";
import { loadIdentity, expiryWarning, crlWarning } from "./identity.js";
import { whoamiPage } from "./pages/whoami.js";
import { certificatePage } from "./pages/certificate.js";
import { catalogPage, stockPage, ledgerPage, reorderPage } from "./pages/lists.js";
import { operationPage, OPERATION_NAMES } from "./pages/operations.js";

const session = { me: null, failure: null };

const ROUTES = {
  "": (s) => whoamiPage(s),
  catalog: (s) => catalogPage(s),
  stock: (s) => stockPage(s),
  ledger: () => ledgerPage(),
  reorder: () => reorderPage(),
  ...Object.fromEntries(OPERATION_NAMES.map((op) => [op, (s) => operationPage(op, s)])),
};

const TITLES = {
  "": "Who am I", catalog: "Catalog", stock: "Stock", ledger: "Ledger",
  reorder: "Below reorder point", receipt: "Receipt", stow: "Stow", issue: "Issue", adjustment: "Adjustment",
  certificate: "Install your certificate",
};

function currentRoute() {
  return window.location.hash.replace(/^#\/?/, "").split("?")[0];
}

function show() {
  const main = document.getElementById("main");
  let route = currentRoute();
  if (!(route in ROUTES) && route !== "certificate") route = "";
  let page;
  if (route === "certificate" || !session.me) {
    page = certificatePage(session.failure);
    route = session.me ? route : "certificate";
  } else {
    page = ROUTES[route](session);
  }
  render(main, page);
  document.title = `${TITLES[route] ?? "Supply"} — Supply`;
  for (const link of document.querySelectorAll(".sidenav a")) {
    if (link.dataset.route === route) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.route = route;
}

function showIdentity() {
  const summary = document.getElementById("identity-summary");
  const banner = document.getElementById("expiry-banner");
  if (session.me) {
    summary.textContent = `Signed in as ${session.me.subject_dn}`;
    const warning = [expiryWarning(session.me), crlWarning(session.me)].filter(Boolean).join(" ");
    banner.hidden = !warning;
    banner.textContent = warning;
  } else {
    const failure = session.failure;
    summary.textContent = failure?.dn
      ? "Certificate not registered"
      : failure?.status === 401 || failure?.status === 403
        ? "No certificate"
        : "Service not available";
    for (const link of document.querySelectorAll(".sidenav a[data-needs-identity]")) {
      link.closest("li").hidden = true;
    }
  }
  document.body.dataset.identity = session.me ? "known" : "none";
}

async function start() {
  // The skip link must not change the hash: the hash is the route.
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  const outcome = await loadIdentity();
  if (outcome.ok) session.me = outcome.me;
  else session.failure = outcome;
  showIdentity();
  window.addEventListener("hashchange", () => {
    show();
    document.getElementById("main").focus({ preventScroll: true });
  });
  show();
  document.body.dataset.ready = "true";
}

start();
