#!/usr/bin/python3
"""The web pages in a real browser (headless Chromium through Selenium and
Debian's chromedriver), driven by tests/e2e/test-browser.c, which started
easd and provisioned the devices and checks afterwards that they get their
wipes.

As the administrator: log in, look at every admin page, find the device
--admin-device on the devices page (typing in its search box filters the
list: the one script of the pages), open it, wipe it (through the
confirmation) and see the wipe requested. As the user --user: log in to
the self-service page at phone size, wipe --self-device, look at the
automatic replies and password pages. No page may log a console error (a
blocked script or style, a missing file). A screenshot of each page goes to
--shots. Exits 0 when every step passed."""

import argparse
import os
import sys
import tempfile
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import (InvalidSessionIdException,
                                        SessionNotCreatedException,
                                        WebDriverException)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

failures = []
# the exit status for "the browser broke, not a page" (test-browser.c)
BROWSER_BROKE = 75


def step(ok, what):
    print(("ok - " if ok else "FAILED - ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--disable-gpu", "--no-first-run", "--disable-extensions",
              "--disable-background-networking", "--disable-sync",
              "--user-data-dir=" + profile):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # On a loaded machine chromedriver or Chromium may not come up the
    # first time; a browser that never starts fails the test below.
    for attempt in range(3):
        try:
            d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                 options=opts)
            break
        except WebDriverException as e:
            print("  chromium did not start (%s), again" % e.msg,
                  flush=True)
    else:
        raise RuntimeError("chromium did not start three times")
    # elements of a page still being parsed are waited for, not missed
    d.implicitly_wait(30)
    d.set_page_load_timeout(120)
    return d


def click(d, element):
    """Click a button or link and wait until the next page replaced
    this one."""
    page = d.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(d, 60).until(expected_conditions.staleness_of(page))
    WebDriverWait(d, 60).until(
        lambda d: d.execute_script("return document.readyState")
        == "complete")


def console_clean(d, page):
    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    for e in errors:
        print("  console: " + e.get("message", ""), flush=True)
    step(not errors, "no console errors on " + page)


def shot(d, shots, name):
    path = os.path.join(shots, name + ".png")
    d.save_screenshot(path)
    step(os.path.getsize(path) > 0, "screenshot " + path)


def visit(d, shots, url, name, heading):
    d.get(url)
    h1 = d.find_element(By.TAG_NAME, "h1").text
    step(heading in h1, "%s shows '%s' (got '%s')" % (name, heading, h1))
    console_clean(d, name)
    shot(d, shots, name)


def login(d, shots, url, name, user, password):
    d.get(url + "/login")
    console_clean(d, name + "-login")
    shot(d, shots, name + "-login")
    d.find_element(By.NAME, "user").send_keys(user)
    d.find_element(By.NAME, "password").send_keys(password)
    click(d, d.find_element(By.NAME, "login"))


def admin(d, args):
    base = args.admin
    d.set_window_size(1280, 900)
    login(d, args.shots, base, "admin", args.admin_user, args.password)
    step("Dashboard" in d.find_element(By.TAG_NAME, "h1").text,
         "admin login lands on the dashboard")
    step(len(d.find_elements(By.TAG_NAME, "svg")) == 1,
         "the dashboard has its chart")
    console_clean(d, "admin-dashboard")
    shot(d, args.shots, "admin-dashboard")
    visit(d, args.shots, base + "/accounts", "admin-accounts", "Accounts")
    visit(d, args.shots, base + "/policies", "admin-policies", "policy")
    visit(d, args.shots, base + "/queue", "admin-queue", "queue")
    visit(d, args.shots, base + "/devices", "admin-devices", "Devices")
    # the script filters the list as one types (without it, the form does)
    d.find_element(By.NAME, "q").send_keys(args.admin_device[:4])
    shown = [r.text for r in d.find_elements(By.CSS_SELECTOR,
                                             "table.filter tbody tr")
             if r.is_displayed()]
    step(len(shown) == 1 and args.admin_device in shown[0],
         "typing in the search box filters the devices (%r)" % shown)
    d.find_element(By.NAME, "q").clear()
    links = [a for a in d.find_elements(By.CSS_SELECTOR, "a.device")
             if a.text == args.admin_device]
    if not step(len(links) == 1,
                "the devices page lists " + args.admin_device):
        return
    click(d, links[0])
    step(args.admin_device in d.find_element(By.TAG_NAME, "h1").text,
         "the device's page opens")
    console_clean(d, "admin-device")
    shot(d, args.shots, "admin-device")
    click(d, d.find_element(By.CSS_SELECTOR,
                            "button[name=action][value=wipe]"))
    step("Wipe this device?" in d.find_element(By.TAG_NAME, "h1").text,
         "a wipe asks for confirmation first")
    console_clean(d, "admin-wipe-confirm")
    shot(d, args.shots, "admin-wipe-confirm")
    click(d, d.find_element(By.NAME, "do"))
    body = d.find_element(By.TAG_NAME, "body").text
    step("wipe requested" in body, "the device's page shows the wipe")
    console_clean(d, "admin-device-wiped")
    shot(d, args.shots, "admin-device-wiped")
    click(d, d.find_element(By.CSS_SELECTOR, "form.logout button"))
    step("login" in d.current_url, "logging out goes to the login page")


def self_service(d, args):
    base = args.public + "/account"
    d.set_window_size(390, 844)  # a phone
    login(d, args.shots, base, "self", args.user, args.password)
    step("My devices" in d.find_element(By.TAG_NAME, "h1").text,
         "self-service login lands on the user's devices")
    wide = d.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    step(wide, "the self-service page fits a phone's width")
    console_clean(d, "self-devices")
    shot(d, args.shots, "self-devices")
    cards = [c for c in d.find_elements(By.CSS_SELECTOR, "section.device")
             if args.self_device in c.text]
    if not step(len(cards) == 1, "the page lists " + args.self_device):
        return
    click(d, cards[0].find_element(By.CSS_SELECTOR,
                                   "button[name=action][value=wipe]"))
    body = d.find_element(By.TAG_NAME, "body").text
    step("erases EVERYTHING" in body, "the wipe's warning is shown")
    console_clean(d, "self-wipe-confirm")
    shot(d, args.shots, "self-wipe-confirm")
    click(d, d.find_element(By.NAME, "do"))
    body = d.find_element(By.TAG_NAME, "body").text
    step("wipe requested" in body, "the device shows the wipe requested")
    console_clean(d, "self-devices-wiped")
    shot(d, args.shots, "self-devices-wiped")
    visit(d, args.shots, base + "/oof", "self-oof", "Automatic replies")
    visit(d, args.shots, base + "/password", "self-password", "password")


def main():
    p = argparse.ArgumentParser()
    for a in ("--admin", "--public", "--admin-user", "--user", "--password",
              "--admin-device", "--self-device", "--shots"):
        p.add_argument(a, required=True)
    args = p.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        d = browser(profile)
        try:
            admin(d, args)
            self_service(d, args)
        except Exception as e:  # a missing element: report, and fail
            traceback.print_exc(file=sys.stdout)
            # chromedriver or Chromium itself gave up (a renderer that
            # stopped answering on a loaded machine), before any page
            # failed a step: the caller runs everything again, once
            broke = type(e) in (WebDriverException,
                                InvalidSessionIdException,
                                SessionNotCreatedException)
            step(False, "unexpected: %s: %s" %
                 (type(e).__name__, getattr(e, "msg", None) or e))
            if broke and len(failures) == 1:
                print("1 failed (the browser broke)")
                return BROWSER_BROKE
        finally:
            try:
                d.quit()
            except WebDriverException:
                pass
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
