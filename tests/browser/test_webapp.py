"""The web app in headless Chromium against the real stack (nginx, gunicorn, SQLite), with each
person's .p12 presented as a client certificate through Playwright."""

from __future__ import annotations

import csv
import json
import re
import uuid

import pytest

from supply.inventory.demo_data import BINS, CUSTOMER_UNIT, DEMO_UNIT, RECEIVING
from tests.browser.conftest import screenshot
from tests.browser.stack import BIN, REPO, run

pytestmark = pytest.mark.browser

UNIT = DEMO_UNIT[0]
CUSTOMER = CUSTOMER_UNIT[0]
SHELF = BINS[1]
NSN = "6545009220000"  # in the demo catalog; the tests only count changes, never totals


def dashed(nsn: str) -> str:
    """An NSN as the page shows it (and as labels print it): 6545-00-922-0000."""
    return f"{nsn[:4]}-{nsn[4:6]}-{nsn[6:9]}-{nsn[9:]}"


DASHED = dashed(NSN)
# The demo catalog's own words for each item: what the page must show for an NSN.
with (REPO / "supply/catalog/data/demo_catalog.csv").open(encoding="utf-8") as catalog:
    DEMO_ITEMS = {row["NSN"]: row for row in csv.DictReader(catalog)}


def what(nsn: str = NSN) -> str:
    """An item as a success message names it: First aid kit (6545-00-922-0000)."""
    return f"{DEMO_ITEMS[nsn]['common_name']} ({dashed(nsn)})"


UI = DEMO_ITEMS[NSN]["UI"]


def go(page, link: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()


def on_hand(page, location: str, nsn: str = NSN) -> int:
    """The Stock page's quantity of one item at one location of the demo unit (0 if no row)."""
    go(page, "Stock")
    page.locator("#stock-count").wait_for()
    form = page.locator("#stock form")
    form.get_by_label("Unit").select_option(UNIT)
    form.get_by_label("Location code").fill(location)
    form.get_by_label("Item").fill(nsn)
    with page.expect_response(lambda r: f"location={location}" in r.url and r.ok):
        form.get_by_role("button", name="Show").click()
    page.locator("#stock-count").wait_for()
    rows = page.locator("#stock tbody tr")
    if rows.count() == 1 and rows.first.inner_text().strip() == "Nothing to show.":
        return 0
    assert rows.count() == 1, rows.all_inner_texts()
    headers = page.locator("#stock thead th").all_inner_texts()
    return int(rows.first.locator("td").nth(headers.index("On hand")).inner_text())


def fill_operation(page, op: str, values: dict[str, str]) -> None:
    go(page, op.capitalize())
    form = page.locator(f"#{op}-form")
    form.locator("[name=unit]").select_option(UNIT)
    for name, value in values.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def submit(page, op: str) -> str:
    """Press the form's button and return the message the page shows."""
    page.locator(f"#{op}-form button[type=submit]").click()
    result = page.locator(f"#{op} .result .msg-ok, #{op} .result .msg-error")
    result.wait_for()
    text: str = result.inner_text()
    return text


def stock_up(page, location: str, quantity: int, nsn: str = NSN) -> None:
    """Put `quantity` more of the item at a bin of the demo unit through the API (a receipt into
    the receiving area, then a stow), so a test does not depend on another having run first."""
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    common = {"unit": UNIT, "nsn": nsn, "quantity": quantity}
    received = api_post(
        page,
        "/supply/api/receipts/",
        {**common, "location": RECEIVING, "document_number": f"{doc}-R"},
        key=str(uuid.uuid4()),
    )
    assert received["status"] == 201, received
    if location != RECEIVING:
        stowed = api_post(
            page,
            "/supply/api/stows/",
            {**common, "from_location": RECEIVING, "to_location": location,
             "document_number": f"{doc}-S"},
            key=str(uuid.uuid4()),
        )  # fmt: skip
        assert stowed["status"] == 201, stowed


def field_error(page, op: str, name: str) -> str:
    """The error message shown under one field of an operation form (empty when none)."""
    control = page.locator(f"#{op}-form [name={name}]")
    assert control.get_attribute("aria-invalid") == "true", name
    text: str = page.locator(f"#{control.get_attribute('id')}-error").inner_text()
    return text


def ledger_rows(page, search: str, kind: str = "", day: str = "") -> list[dict[str, str]]:
    """The Ledger page's rows for a search, optionally of one kind on one day (YYYY-MM-DD)."""
    go(page, "Ledger")
    page.locator("#ledger-count").wait_for()
    form = page.locator("#ledger form")
    form.get_by_label("Search").fill(search)
    form.get_by_label("Kind").select_option(kind)
    form.get_by_label("From day").fill(day)
    form.get_by_label("To day (inclusive)").fill(day)
    with page.expect_response(lambda r: "transactions/" in r.url and "search=" in r.url):
        form.get_by_role("button", name="Show").click()
    page.locator("#ledger-count").wait_for()
    headers = page.locator("#ledger thead th").all_inner_texts()
    rows = []
    for row in page.locator("#ledger tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        if cells != ["Nothing to show."]:
            rows.append(dict(zip(headers, cells, strict=True)))
    return rows


def api_post(page, path: str, body: dict[str, object], key: str | None = None) -> dict[str, object]:
    """A same-origin fetch from the page, as the app makes it: {status, body}."""
    result: dict[str, object] = page.evaluate(
        """async ([path, body, key]) => {
            const headers = {"Content-Type": "application/json"};
            if (key) headers["Idempotency-Key"] = key;
            const r = await fetch(path, {method: "POST", headers, body: JSON.stringify(body),
                                          credentials: "same-origin"});
            return {status: r.status, body: await r.json()};
        }""",
        [path, body, key],
    )
    return result


def test_the_app_shows_the_certificate_holder(open_as, site):
    page = open_as(site.admin)
    assert page.locator("[data-field=subject_dn]").inner_text() == site.admin.subject_dn
    assert page.locator("#identity-summary").inner_text() == f"Signed in as {site.admin.subject_dn}"
    me = json.loads(page.evaluate("fetch('/supply/api/whoami/').then(r => r.text())"))
    assert page.locator("[data-field=issuer_dn]").inner_text() == me["issuer_dn"]
    assert page.locator("[data-field=days_left]").inner_text() == str(me["days_left"])
    assert page.locator("[data-field=roles]").inner_text() == "administrator (every operation)"
    assert page.locator("#expiry-banner").is_hidden(), "a fresh certificate needs no warning"
    assert page.locator(".capabilities .cannot").count() == 0
    assert page.title() == "Who am I — Supply"
    screenshot(page, "whoami-admin-laptop")


def test_a_certificate_about_to_expire_shows_a_banner(open_as, site):
    page = open_as(site.expiring)
    me = json.loads(page.evaluate("fetch('/supply/api/whoami/').then(r => r.text())"))
    assert me["days_left"] < 30
    banner = page.locator("#expiry-banner")
    assert banner.is_visible()
    assert banner.get_attribute("role") == "alert"
    assert banner.inner_text() == (
        f"Your certificate expires in {me['days_left']} days. "
        "Ask your administrator for a new one before then."
    )
    go(page, "Catalog")
    page.locator("#catalog-count").wait_for()
    assert banner.is_visible(), "the banner stays on every page"
    screenshot(page, "catalog-expiring-certificate")


def test_catalog_search_and_reorder_report_show_what_the_api_says(open_as, site):
    page = open_as(site.viewer)
    go(page, "Catalog")
    page.locator("#catalog-count").wait_for()
    page.locator("#catalog form").get_by_label("Search").fill("battery")
    with page.expect_response(lambda r: "items/" in r.url and "search=battery" in r.url):
        page.locator("#catalog form").get_by_label("Search").press("Enter")
    page.locator("#catalog-count").wait_for()
    api = json.loads(
        page.evaluate("fetch('/supply/api/items/?search=battery').then(r => r.text())")
    )
    assert api["count"] > 0
    shown = page.locator("#catalog tbody tr td:first-child").all_inner_texts()
    assert shown == [dashed(item["nsn"]) for item in api["results"]]
    assert page.locator("#catalog-count").inner_text() == (
        f"{api['count']} result{'' if api['count'] == 1 else 's'}"
    )

    go(page, "Below reorder point")
    page.locator("#reorder-count").wait_for()
    report = json.loads(
        page.evaluate("fetch('/supply/api/stock/below-reorder-point/').then(r => r.text())")
    )
    rows = [r.locator("td").all_inner_texts() for r in page.locator("#reorder tbody tr").all()]
    assert rows == [
        [
            line["unit"], dashed(line["nsn"]), line["common_name"], str(line["on_hand"]),
            str(line["reorder_point"]), str(line["allowance"]), str(line["shortfall"]),
        ]
        for line in report["results"]
    ] or rows == [["Nothing to show."]]  # fmt: skip
    screenshot(page, "below-reorder-point")


def test_the_pager_walks_a_long_catalog(open_as, site, tmp_path):
    rows = [f"99{n:011d},T1,Pager widget {n},Widget number {n},1.00,EA,D" for n in range(60)]
    csv = tmp_path / "widgets.csv"
    csv.write_text("NSN,rep_office,common_name,Description,Price,UI,AAC\n" + "\n".join(rows) + "\n")
    run([str(BIN / "supply"), "import-catalog", str(csv)], site.stack.env)

    page = open_as(site.viewer)
    go(page, "Catalog")
    page.locator("#catalog-count").wait_for()
    page.locator("#catalog form").get_by_label("Search").fill("Pager widget")
    with page.expect_response(lambda r: "search=Pager" in r.url):
        page.locator("#catalog form").get_by_role("button", name="Show").click()
    page.locator("#catalog-count").wait_for()
    assert page.locator("#catalog-count").inner_text() == "60 results"
    first = page.locator("#catalog tbody tr td:first-child").all_inner_texts()
    previous = page.get_by_role("button", name="← Previous page")
    assert previous.is_disabled()
    with page.expect_response(lambda r: "page=2" in r.url):
        page.get_by_role("button", name="Next page →").click()
    page.locator("#catalog-count").wait_for()
    second = page.locator("#catalog tbody tr td:first-child").all_inner_texts()
    assert len(first) + len(second) == 60
    assert sorted(first + second) == sorted(dashed(row.split(",")[0]) for row in rows)
    assert page.get_by_role("button", name="Next page →").is_disabled()
    with page.expect_response(lambda r: "search=Pager" in r.url):
        previous.click()
    page.locator("#catalog-count").wait_for()
    assert page.locator("#catalog tbody tr td:first-child").all_inner_texts() == first


def test_every_form_control_has_a_label(open_as, site):
    page = open_as(site.clerk)
    links = ("Catalog", "Stock", "Receipt", "Stow", "Issue", "Adjustment", "Ledger")
    for link in (*links, "Below reorder point"):
        go(page, link)
        page.locator("main form").wait_for()
        unlabelled = page.evaluate(
            """[...document.querySelectorAll("main input, main select")]
                 .filter((el) => el.labels.length === 0).map((el) => el.name)"""
        )
        assert unlabelled == [], link


def test_tablet_layout_puts_the_navigation_above_the_page(open_as, site):
    page = open_as(site.clerk, "stock", width=768, height=1024)
    nav = page.get_by_role("navigation", name="Main").bounding_box()
    main = page.get_by_role("main").bounding_box()
    assert nav is not None and main is not None
    assert nav["y"] + nav["height"] <= main["y"]
    assert main["width"] > 700, "the page uses the full width of a tablet"
    assert page.evaluate("document.documentElement.scrollWidth") <= 768, "no sideways scrolling"
    screenshot(page, "stock-clerk-tablet")
    go(page, "Ledger")
    page.locator("#ledger-count").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 768, "the ledger fits too"
    screenshot(page, "ledger-clerk-tablet")


def test_keyboard_reaches_the_skip_link_then_the_navigation(open_as, site):
    page = open_as(site.clerk)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Install your certificate"


def test_receipt_stow_issue_change_stock_and_ledger(open_as, site):
    page = open_as(site.clerk)
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    before = {RECEIVING: on_hand(page, RECEIVING), SHELF: on_hand(page, SHELF)}

    # Typed as printed on the label: dashed.
    fill_operation(page, "receipt", {"nsn": DASHED, "location": RECEIVING, "quantity": "7"})
    page.locator("#receipt-form [name=document_number]").fill(f"{doc}-R")
    receipt = submit(page, "receipt")
    assert re.fullmatch(
        rf"7 {UI} of {re.escape(what())} received into {UNIT}/{RECEIVING}, document {doc}-R, "
        r"ledger entry \d+\.",
        receipt,
    )

    # What comes next is a link away: the stow form with unit, item and source filled in.
    page.get_by_role("link", name="Stow it into a bin →").click()
    stow_form = page.locator("#stow-form")
    assert stow_form.locator("[name=nsn]").input_value() == DASHED
    page.wait_for_function(
        "el => el.value === 'RECV'", arg=stow_form.locator("[name=from_location]").element_handle()
    )

    # The next form starts in the unit of the last recorded operation, its locations loaded.
    go(page, "Issue")
    go(page, "Stow")
    stow_form = page.locator("#stow-form")
    assert stow_form.locator("[name=unit]").input_value() == UNIT
    stow_form.locator(f"[name=from_location] option[value='{RECEIVING}']").wait_for(
        state="attached"
    )
    fill_operation(
        page,
        "stow",
        {"nsn": NSN, "from_location": RECEIVING, "to_location": SHELF, "quantity": "5"},
    )
    page.locator("#stow-form [name=document_number]").fill(f"{doc}-S")
    assert submit(page, "stow").startswith(
        f"5 {UI} of {what()} stowed from {UNIT}/{RECEIVING} to {UNIT}/{SHELF}, document {doc}-S, "
    )

    fill_operation(
        page, "issue", {"nsn": NSN, "location": SHELF, "customer_unit": CUSTOMER, "quantity": "3"}
    )
    page.locator("#issue-form [name=document_number]").fill(f"{doc}-I")
    assert submit(page, "issue").startswith(
        f"3 {UI} of {what()} issued from {UNIT}/{SHELF} to {CUSTOMER}, document {doc}-I, "
    )
    screenshot(page, "issue-recorded")

    assert on_hand(page, RECEIVING) == before[RECEIVING] + 7 - 5
    assert on_hand(page, SHELF) == before[SHELF] + 5 - 3
    rows = ledger_rows(page, doc)
    screenshot(page, "ledger-after-operations")
    wrap = page.locator("#ledger .table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "all ten columns fit a laptop"
    assert wrap.get_attribute("tabindex") == "0", "a keyboard can scroll a wide table"
    assert [(r["Kind"], r["Document"], r["Qty"]) for r in rows] == [
        ("ISSUE", f"{doc}-I", "3"),
        ("STOW", f"{doc}-S", "5"),
        ("RECEIPT", f"{doc}-R", "7"),
    ]
    assert [(r["From"], r["To"], r["Customer"]) for r in rows] == [
        (f"{UNIT}/{SHELF}", "", CUSTOMER),
        (f"{UNIT}/{RECEIVING}", f"{UNIT}/{SHELF}", ""),
        ("", f"{UNIT}/{RECEIVING}", ""),
    ]
    assert {r["By"] for r in rows} == {"Dana Clerk"}, "the name from the clerk's certificate"
    ledger_id = re.search(r"ledger entry (\d+)", receipt)
    assert ledger_id and rows[2]["#"] == ledger_id[1]

    today = rows[0]["When (UTC)"][:10]
    only_stows = ledger_rows(page, doc, kind="STOW", day=today)
    assert [(r["Kind"], r["Document"]) for r in only_stows] == [("STOW", f"{doc}-S")]


def test_a_retry_after_a_lost_answer_applies_once(open_as, site):
    """The first answer is lost on the way back (the service did apply it); pressing the button
    again sends the same Idempotency-Key, so the service replays its answer instead of applying
    the receipt twice."""
    page = open_as(site.clerk)
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    before = on_hand(page, RECEIVING)
    keys: list[str] = []

    def lose_first_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        response = route.fetch()  # reaches the service, which applies it
        if len(keys) == 1:
            assert response.status == 201
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/supply/api/receipts/", lose_first_answer)
    fill_operation(
        page,
        "receipt",
        {"nsn": NSN, "location": RECEIVING, "quantity": "4", "document_number": doc},
    )
    first = submit(page, "receipt")
    assert re.fullmatch(
        r"The network failed \(.+\)\. "
        r"Press the button again to retry: it will not be applied twice\.",
        first,
    )
    page.locator("#receipt .result .msg-error").evaluate("el => el.remove()")
    assert re.fullmatch(
        rf"4 {UI} of {re.escape(what())} received into {UNIT}/{RECEIVING}, document {doc}, "
        r"ledger entry \d+\. It had already arrived: recorded once\.",
        submit(page, "receipt"),
    )
    page.unroute("**/supply/api/receipts/")

    assert len(keys) == 2 and keys[0] == keys[1]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", keys[0]
    )
    assert on_hand(page, RECEIVING) == before + 4
    assert [r["Qty"] for r in ledger_rows(page, doc)] == ["4"]


def test_the_same_values_after_a_reload_are_the_same_submission(open_as, site):
    """The answer is lost and the person reloads the page and types the same receipt again: the
    tab kept the pending key with its body, so the service recognises the retry."""
    page = open_as(site.clerk)
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    values = {"nsn": NSN, "location": RECEIVING, "quantity": "6", "document_number": doc}
    before = on_hand(page, RECEIVING)
    keys: list[str] = []

    def lose_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        assert route.fetch().status == 201
        route.abort("connectionreset")

    page.route("**/supply/api/receipts/", lose_answer)
    fill_operation(page, "receipt", values)
    assert submit(page, "receipt").startswith("The network failed (")
    page.unroute("**/supply/api/receipts/")

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.on(
        "request",
        lambda r: keys.append(r.headers["idempotency-key"]) if r.method == "POST" else None,
    )
    fill_operation(page, "receipt", values)
    assert submit(page, "receipt").endswith("It had already arrived: recorded once.")
    assert len(keys) == 2 and keys[0] == keys[1]
    assert on_hand(page, RECEIVING) == before + 6

    # Answered: the same values once more are a new receipt, with a new key.
    fill_operation(page, "receipt", values)
    assert submit(page, "receipt").startswith(f"6 {UI} of {what()} received into ")
    assert len(keys) == 3 and keys[2] != keys[0]
    assert [r["Qty"] for r in ledger_rows(page, doc)] == ["6", "6"]


def test_double_click_sends_one_request(open_as, site):
    page = open_as(site.clerk)
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    fill_operation(
        page,
        "receipt",
        {"nsn": NSN, "location": RECEIVING, "quantity": "2", "document_number": doc},
    )
    page.locator("#receipt-form button[type=submit]").dblclick()
    page.locator("#receipt .result .msg-ok").wait_for()
    assert len(posts) == 1
    assert [r["Qty"] for r in ledger_rows(page, doc)] == ["2"]


def test_validation_and_conflicts_are_explained(open_as, site):
    page = open_as(site.clerk)
    go(page, "Issue")
    assert submit(page, "issue") == "Please correct the marked fields."
    errors = page.locator("#issue-form .field-error").all_inner_texts()
    assert [e for e in errors if e] == [
        "Choose your unit.",
        "NSN must be 13 digits, plain or dashed as printed (6505-01-332-4567).",
        "Choose one.",
        "Choose one.",
        "Quantity must be a whole number of at least 1.",
        "A document number is required.",
    ]
    assert page.evaluate("document.activeElement.name") == "unit", "focus on the first error"
    nsn_input = page.locator("#issue-form [name=nsn]")
    assert nsn_input.get_attribute("aria-invalid") == "true"
    described = (nsn_input.get_attribute("aria-describedby") or "").split()
    error_slot = next(d for d in described if d.endswith("-error"))
    assert page.locator(f"#{error_slot}").inner_text() == (
        "NSN must be 13 digits, plain or dashed as printed (6505-01-332-4567)."
    )

    # More than on hand: the service refuses (409); its reason sits under the quantity, as a
    # sentence, and the quantity takes the focus.
    stock_up(page, SHELF, 2)  # the issue form offers only locations that hold the item
    held = on_hand(page, SHELF)
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    body = {
        "unit": UNIT, "nsn": NSN, "location": SHELF, "customer_unit": CUSTOMER,
        "quantity": held + 1000, "document_number": doc,
    }  # fmt: skip
    fill_operation(
        page,
        "issue",
        {k: str(v) for k, v in body.items() if k != "unit"},
    )
    shown = submit(page, "issue")
    refused = api_post(page, "/supply/api/issues/", body)
    assert refused["status"] == 409
    assert shown == "Nothing was recorded: please correct the marked fields."
    detail = refused["body"]["detail"]  # type: ignore[index]
    assert detail.startswith("stock: Only ")
    sentence = detail.removeprefix("stock: ").replace(NSN, DASHED)
    assert field_error(page, "issue", "quantity") == sentence
    assert sentence == (
        f"Only {held} of {DASHED} on hand at {UNIT}/{SHELF}, {held + 1000} requested."
    )
    assert page.evaluate("document.activeElement.name") == "quantity", "focus on the field"
    screenshot(page, "issue-conflict")
    assert on_hand(page, SHELF) == held
    assert ledger_rows(page, doc) == []


def test_a_viewer_sees_the_forms_disabled_and_the_api_refuses(open_as, site):
    page = open_as(site.viewer)
    assert page.locator("[data-field=roles]").inner_text() == "viewer"
    operations = (("receipt", "clerk"), ("stow", "clerk"), ("issue", "issuer"))
    for op, role in (*operations, ("adjustment", "manager")):
        go(page, op.capitalize())
        assert page.locator(f"#{op}-form fieldset").evaluate("el => el.disabled")
        assert page.locator(f"#{op}-form [name=nsn]").is_disabled()
        button = page.locator(f"#{op}-form button[type=submit]")
        assert button.is_disabled()
        reason = page.locator(f"#{op}-denied").inner_text()
        assert reason == (
            f"You need the {role} role for this (you have: viewer). Your site's administrator can "
            "grant it."
        )
        assert button.get_attribute("aria-describedby") == f"{op}-denied"
    screenshot(page, "issue-viewer-disabled")

    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    body = {"unit": UNIT, "nsn": NSN, "location": RECEIVING, "quantity": 1, "document_number": doc}
    refused = api_post(page, "/supply/api/receipts/", body)
    assert refused == {
        "status": 403,
        "body": {"detail": "Your roles do not allow this operation."},
    }
    assert ledger_rows(page, doc) == []
    go(page, "Stock")
    page.locator("#stock-count").wait_for()
    assert page.locator("#stock tbody tr").count() > 0, "a viewer reads stock"


def test_without_a_certificate_the_page_explains_how_to_install_one(open_as, site):
    page = open_as(None)
    assert page.locator("h1").inner_text() == "No client certificate"
    assert page.locator("#nocert-reason").inner_text() == (
        "Your browser did not present a client certificate that this site accepts, so the supply "
        "service cannot tell who you are."
    )
    headings = page.locator("main h2").all_inner_texts()
    assert headings == [
        "Chrome or Chromium on Linux",
        "Firefox (any system)",
        "macOS (Safari, Chrome)",
        "Windows (Edge, Chrome)",
        "curl and scripts",
    ]
    assert (
        f"curl -K me.curlrc {site.origin}/supply/api/whoami/" in page.locator("main").inner_text()
    )
    visible = page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
    assert visible == ["Who am I", "Install your certificate"]
    assert page.locator("#identity-summary").inner_text() == "No certificate"
    screenshot(page, "no-certificate")


def test_an_unregistered_certificate_sees_its_dn_and_the_grant_command(open_as, site):
    page = open_as(site.stranger)
    assert page.locator("h1").inner_text() == "Your certificate is not registered"
    facts = page.locator("main dl.facts dd").all_inner_texts()
    assert facts[0] == site.stranger.subject_dn
    body = json.loads(page.evaluate("fetch('/supply/api/whoami/').then(r => r.text())"))
    assert page.locator("#nocert-reason").inner_text() == body["detail"]
    assert page.locator("#grant-command").inner_text() == body["grant_command"]
    assert page.locator("main h2").count() == 0, "no installation steps: the certificate works"
    screenshot(page, "unregistered-certificate")


def test_a_manager_adjusts_stock_to_an_inventory_count(open_as, site):
    page = open_as(site.admin)
    nsn, location = "6510009268882", BINS[0]  # not the item the other tests move
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    before = on_hand(page, location, nsn)

    fill_operation(page, "adjustment", {"nsn": nsn, "location": location, "counted": "-1"})
    assert submit(page, "adjustment") == "Please correct the marked fields."
    errors = page.locator("#adjustment-form .field-error").all_inner_texts()
    assert [e for e in errors if e] == [
        "Counted quantity must be a whole number of at least 0.",
        "A document number is required.",
    ]
    screenshot(page, "adjustment-validation")

    counted = before + 3
    page.locator("#adjustment-form [name=counted]").fill(str(counted))
    page.locator("#adjustment-form [name=document_number]").fill(doc)
    assert re.fullmatch(
        rf"{re.escape(what(nsn))} at {UNIT}/{location} counted {counted} {DEMO_ITEMS[nsn]['UI']}, "
        rf"a change of \+3, document {doc}, ledger entry \d+\.",
        submit(page, "adjustment"),
    )
    assert on_hand(page, location, nsn) == counted
    rows = ledger_rows(page, doc, kind="ADJUSTMENT")
    assert [(r["Kind"], r["Qty"], r["To"]) for r in rows] == [
        ("ADJUSTMENT", f"+3 (counted {counted})", f"{UNIT}/{location}")
    ]
    screenshot(page, "ledger-adjustment-filtered")


def test_a_clerk_sees_the_adjustment_form_disabled_with_the_reason(open_as, site):
    page = open_as(site.clerk, "adjustment")
    assert page.locator("#adjustment-form button[type=submit]").is_disabled()
    assert page.locator("#adjustment-denied").inner_text() == (
        "You need the manager role for this (you have: clerk, issuer). Your site's administrator "
        "can grant it."
    )
    go(page, "Who am I")
    assert page.locator(".capabilities .cannot").all_text_contents() == [
        "Not allowed: ✗ Set stock to an inventory count — You need the manager role for this "
        "(you have: clerk, issuer). Your site's administrator can grant it."
    ]


def test_a_form_works_from_the_keyboard_alone(open_as, site):
    """Tab order follows the fields, a select is chosen with keys, Enter submits, and the answer
    takes the focus."""
    page = open_as(site.clerk, "receipt")
    form = page.locator("#receipt-form")
    form.locator("[name=unit] option").nth(2).wait_for(state="attached")
    focused = "document.activeElement.name || document.activeElement.textContent"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: focus moves to the page
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate(focused))
    assert order == ["unit", "nsn", "location", "quantity", "document_number", "Record receipt"]

    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == "unit"
    page.keyboard.type(UNIT)  # a closed select jumps to the option its label starts with
    assert form.locator("[name=unit]").input_value() == UNIT
    page.keyboard.press("Tab")
    page.keyboard.type(NSN)
    page.keyboard.press("Tab")
    form.locator("[name=location] option").nth(1).wait_for(state="attached")
    page.keyboard.press("ArrowDown")  # receiving areas come first
    assert form.locator("[name=location]").input_value() == RECEIVING
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type(doc)
    page.keyboard.press("Enter")
    page.locator("#receipt .result .msg-ok").wait_for()
    answer = page.evaluate("document.activeElement.textContent")
    assert answer.startswith(f"1 {UI} of {what()} received into {UNIT}/{RECEIVING}, document {doc}")
    screenshot(page, "receipt-keyboard-recorded")


OPERATION_ERRORS = {
    "receipt": {"nsn": NSN, "location": RECEIVING, "quantity": "1"},
    "stow": {  # more than is on hand: the service refuses with 409
        "nsn": NSN,
        "from_location": RECEIVING,
        "to_location": SHELF,
        "quantity": "1000000",
        "document_number": "BT-CONFLICT",
    },
    "issue": {"nsn": "0000000000000", "location": SHELF, "customer_unit": CUSTOMER},
    "adjustment": {"nsn": NSN, "location": SHELF, "counted": "1.5"},
}


@pytest.mark.parametrize(
    ("width", "height", "size"), [(1280, 800, "laptop"), (768, 1024, "tablet")]
)
def test_every_form_explains_its_errors_at_laptop_and_tablet_size(
    open_as, site, width, height, size
):
    page = open_as(site.admin, width=width, height=height)
    screenshot(page, f"whoami-admin-{size}")
    stock_up(page, RECEIVING, 1)  # the stow form offers only locations that hold the item
    for op, values in OPERATION_ERRORS.items():
        fill_operation(page, op, values)
        shown = submit(page, op)
        screenshot(page, f"{op}-error-{size}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, op
        if op == "stow":
            assert shown == "Nothing was recorded: please correct the marked fields."
            assert re.fullmatch(
                rf"Only \d+ of {DASHED} on hand at {UNIT}/{RECEIVING}, 1000000 requested\.",
                field_error(page, op, "quantity"),
            )
            assert page.evaluate("document.activeElement.name") == "quantity"
        else:
            assert shown == "Please correct the marked fields.", (op, shown)


def test_every_page_loads_only_from_its_own_origin(open_as, site):
    """No fonts, scripts, styles or API calls from anywhere else: the app works offline."""
    page = open_as(site.admin)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    links = ("Catalog", "Stock", "Receipt", "Stow", "Issue", "Adjustment", "Ledger")
    for link in (*links, "Below reorder point", "Install your certificate", "Who am I"):
        go(page, link)
        page.locator("main h1").wait_for()
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("/js/app.js") for url in requested)
    assert any("/supply/api/" in url for url in requested)
    foreign = [url for url in requested if not url.startswith(f"{site.origin}/")]
    assert foreign == [], foreign


def stock_on_hand(page, nsn: str = NSN) -> dict[str, int]:
    """The API's on-hand of an item per location of the demo unit (only where some is held)."""
    rows: list[dict[str, object]] = page.evaluate(
        """async (nsn) => {
            const r = await fetch(`/supply/api/stock/?unit=${UNIT}&nsn=${nsn}&in_stock=true`);
            return (await r.json()).results;
        }""".replace("${UNIT}", UNIT),
        nsn,
    )
    return {str(row["location"]): int(row["on_hand"]) for row in rows}  # type: ignore[call-overload]


def test_the_item_shows_as_soon_as_the_nsn_is_complete(open_as, site):
    """Two swapped digits must show the wrong item (or none) before anything is booked."""
    page = open_as(site.clerk)
    stock_up(page, SHELF, 3)
    go(page, "Issue")
    form = page.locator("#issue-form")
    form.locator("[name=unit]").select_option(UNIT)
    line = page.locator("#issue-item")
    nsn = form.locator("[name=nsn]")
    nsn.press_sequentially(DASHED[:-1])
    assert line.inner_text() == "", "nothing is looked up before the NSN is complete"
    nsn.press_sequentially(DASHED[-1])
    held = stock_on_hand(page)
    listed = ", ".join(f"{code} {n}" for code, n in sorted(held.items()))
    name = DEMO_ITEMS[NSN]["common_name"]
    page.wait_for_function(
        "([el, text]) => el.textContent === text",
        arg=[line.element_handle(), f"{name} — unit of issue {UI}. On hand in {UNIT}: {listed}."],
    )
    # Only the locations that hold the item are offered, each with its on-hand.
    options = form.locator("[name=location] option").all_inner_texts()
    assert options[1:] == [
        f"{code} (receiving area) — {n} on hand" if code == RECEIVING else f"{code} — {n} on hand"
        for code, n in sorted(held.items(), key=lambda kv: (kv[0] != RECEIVING, kv[0]))
    ]
    form.locator("[name=location]").select_option(SHELF)
    assert line.inner_text() == (
        f"{name} — unit of issue {UI}. {held[SHELF]} {UI} on hand at {UNIT}/{SHELF}."
    )
    screenshot(page, "issue-item-shown")

    # The same digits with two swapped: not in the catalog, and the page says so at once.
    digits = list(NSN)
    digits[6], digits[7] = digits[7], digits[6]
    swapped = dashed("".join(digits))
    assert swapped != DASHED and swapped.replace("-", "") not in DEMO_ITEMS
    nsn.fill(swapped)
    page.wait_for_function(
        "([el, text]) => el.textContent === text",
        arg=[
            line.element_handle(),
            f"No item with NSN {swapped} in the catalog. Check the digits.",
        ],
    )
    screenshot(page, "issue-unknown-nsn")


def test_a_stow_and_an_issue_start_from_a_stock_row(open_as, site):
    page = open_as(site.clerk)
    stock_up(page, RECEIVING, 4)
    held = on_hand(page, RECEIVING)
    row = page.locator("#stock tbody tr").first
    where = f"{DEMO_ITEMS[NSN]['common_name']} ({DASHED}) at {UNIT}/{RECEIVING}"
    assert row.get_by_role("link").all_inner_texts() == ["Stow", "Issue"], "clerk+issuer, no adjust"
    row.get_by_role("link", name=f"Stow {where}").click()
    form = page.locator("#stow-form")
    assert form.locator("[name=unit]").input_value() == UNIT
    assert form.locator("[name=nsn]").input_value() == DASHED
    page.wait_for_function(
        "el => el.value === 'RECV'", arg=form.locator("[name=from_location]").element_handle()
    )
    line = page.locator("#stow-item")
    page.wait_for_function(
        "([el, text]) => el.textContent.endsWith(text)",
        arg=[line.element_handle(), f"{held} {UI} on hand at {UNIT}/{RECEIVING}."],
    )
    doc = f"BT-{uuid.uuid4().hex[:8].upper()}"
    form.locator("[name=to_location]").select_option(SHELF)
    form.locator("[name=quantity]").fill("2")
    form.locator("[name=document_number]").fill(doc)
    shown = submit(page, "stow")
    [entry] = ledger_rows(page, doc)
    assert shown == (
        f"2 {UI} of {what()} stowed from {UNIT}/{RECEIVING} to {UNIT}/{SHELF}, document {doc}, "
        f"ledger entry {entry['#']}."
    )
    assert on_hand(page, RECEIVING) == held - 2

    # From the catalog: a receipt of that item.
    go(page, "Catalog")
    page.locator("#catalog-count").wait_for()
    page.locator("#catalog form").get_by_label("Search").fill(DASHED)
    with page.expect_response(lambda r: "search=" in r.url):
        page.locator("#catalog form").get_by_role("button", name="Show").click()
    page.get_by_role("link", name=f"Receive {what()}").click()
    receipt = page.locator("#receipt-form")
    assert receipt.locator("[name=nsn]").input_value() == DASHED
    assert receipt.locator("[name=unit]").input_value() == UNIT, "the last unit, remembered"

    viewer = open_as(site.viewer, "stock")
    viewer.locator("#stock-count").wait_for()
    assert viewer.locator("#stock tbody a").count() == 0, "a viewer is offered no operation"


@pytest.mark.parametrize("width", [800, 768])
def test_the_ledger_keeps_every_column_in_view_on_a_tablet(open_as, site, width):
    page = open_as(site.clerk, "ledger", width=width, height=1024)
    page.locator("#ledger-count").wait_for()
    wrap = page.locator("#ledger .table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "nothing past the edge"
    assert page.locator("#ledger .scroll-hint").is_hidden()
    headers = page.locator("#ledger thead th").all_text_contents()
    assert "Item" in headers
    first = page.locator("#ledger tbody tr").first
    cells = first.locator("td")
    assert cells.count() == len(headers)
    for i in range(cells.count()):
        cell = cells.nth(i)
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, headers[i]
        assert cell.get_attribute("data-label") == headers[i]
        label = cell.evaluate("el => getComputedStyle(el, '::before').content")
        assert label == json.dumps(headers[i]), "each cell is named on screen"
    entry = page.evaluate("fetch('/supply/api/transactions/?ordering=-id').then(r => r.json())")
    latest = entry["results"][0]
    assert cells.nth(headers.index("Item")).inner_text() == latest["common_name"]
    screenshot(page, f"ledger-tablet-{width}")


def test_a_table_wider_than_the_screen_says_it_scrolls(open_as, site):
    page = open_as(site.clerk, "catalog", width=480, height=900)
    page.locator("#catalog-count").wait_for()
    wrap = page.locator("#catalog .table-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
    hint = page.locator("#catalog .scroll-hint")
    hint.wait_for(state="visible")
    assert hint.inner_text() == "Scroll sideways for more columns →"
    page.set_viewport_size({"width": 1280, "height": 900})
    hint.wait_for(state="hidden")


def test_a_refused_search_clears_the_previous_result(open_as, site):
    page = open_as(site.clerk, "catalog")
    form = page.locator("#catalog form")
    form.get_by_label("Search").fill("Bandage")
    with page.expect_response(lambda r: "search=Bandage" in r.url):
        form.get_by_role("button", name="Show").click()
    page.locator("#catalog-count").wait_for()
    assert page.locator("#catalog tbody tr").count() >= 1
    # Text the service refuses (NUL, pasted from a damaged file): a 400 with the reason.
    form.get_by_label("Search").fill("Bandage\x00")
    with page.expect_response(lambda r: "search=" in r.url and r.status == 400):
        form.get_by_role("button", name="Show").click()
    error = page.locator("#catalog .list-status .msg-error")
    error.wait_for()
    assert error.inner_text().startswith("search: ")
    assert page.locator("#catalog table").count() == 0, "no stale result under the refusal"
