"""The registry in headless Chromium (Debian's chromium and chromium-driver, via Selenium):
sign in, submit through the form, see a validation error next to its field, see the
registration in the own list; as another organisation's user, get 404 for it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest
from tests.registry.service import Registry
from tests.registry.test_web import NEW_PASSWORD

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("registry"),
    pytest.mark.skipif(
        (CHROMIUM is None or DRIVER is None) and os.environ.get("CI") != "true",
        reason="chromium and chromium-driver are not installed (Debian); make test installs them",
    ),
]


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1200,2000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER or "/usr/bin/chromedriver"))
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver: object, registry: Registry, who: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    user = registry.users[who]
    driver.get(f"{registry.base}/en/login/")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "id_username").send_keys(user["user"])  # type: ignore[attr-defined]
    password = user.get("settled") or user["password"]
    driver.find_element(By.ID, "id_password").send_keys(password + "\n")  # type: ignore[attr-defined]
    WebDriverWait(driver, 30).until(lambda drv: "/login/" not in drv.current_url)
    if driver.current_url.endswith("/password/"):  # type: ignore[attr-defined]
        driver.find_element(By.ID, "id_old_password").send_keys(password)  # type: ignore[attr-defined]
        driver.find_element(By.ID, "id_new_password1").send_keys(NEW_PASSWORD)  # type: ignore[attr-defined]
        driver.find_element(By.ID, "id_new_password2").send_keys(NEW_PASSWORD + "\n")  # type: ignore[attr-defined]
        user["settled"] = NEW_PASSWORD
    WebDriverWait(driver, 30).until(
        lambda drv: "/login/" not in drv.current_url and "/password/" not in drv.current_url
    )
    assert "/login/" not in driver.current_url  # type: ignore[attr-defined]


def test_submit_through_the_form(browser: object, registry: Registry) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    d = browser
    sign_in(d, registry, "police")
    d.get(f"{registry.base}/en/registrations/new/")  # type: ignore[attr-defined]
    find = d.find_element  # type: ignore[attr-defined]
    # every control has a label a screen reader announces
    for control in d.find_elements(By.CSS_SELECTOR, "main input, main select"):  # type: ignore[attr-defined]
        if control.get_attribute("type") == "hidden":
            continue
        labels = d.find_elements(By.CSS_SELECTOR, f"label[for='{control.get_attribute('id')}']")  # type: ignore[attr-defined]
        assert labels, control.get_attribute("name")
    # the keyboard reaches the skip link first, and it leads to the main content
    find(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert d.switch_to.active_element.get_attribute("class") == "skip"  # type: ignore[attr-defined]

    reference = "web-" + os.urandom(4).hex()
    find(By.ID, "id_registration_id").send_keys(reference)
    find(By.ID, "id_registration_date").send_keys("03/15/2020")  # the date control's own format
    find(By.ID, "id_nationality").send_keys("NL")
    Select(find(By.ID, "id_residence_status")).select_by_value("DutchNational")
    Select(find(By.ID, "id_forms_of_exploitation")).select_by_value("CriminalExploitation")
    find(By.ID, "id_last_name").send_keys("Smit-Browsertest")
    find(By.CSS_SELECTOR, "main form button[type=submit]").click()  # sex left empty

    wait = WebDriverWait(d, 30)
    error = wait.until(lambda drv: drv.find_element(By.ID, "err_sex"))
    assert error.text == "is required but empty"
    sex = find(By.ID, "id_sex")
    assert sex.get_attribute("aria-invalid") == "true"
    assert sex.get_attribute("aria-describedby") == "err_sex"
    # the error sits in the sex field's own block, next to its control
    block = sex.find_element(By.XPATH, "..")
    assert "invalid" in block.get_attribute("class") and error in block.find_elements(By.XPATH, "*")
    assert find(By.CSS_SELECTOR, ".summary a[href='#id_sex']")

    Select(find(By.ID, "id_sex")).select_by_value("F")
    find(By.ID, "id_last_name").send_keys("Smit-Browsertest")
    find(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait.until(
        lambda drv: (
            drv.current_url.endswith("/en/registrations/")
            or drv.find_elements(By.CLASS_NAME, "summary")
        )
    )
    summary = d.find_elements(By.CLASS_NAME, "summary")  # type: ignore[attr-defined]
    assert d.current_url.endswith("/en/registrations/"), summary and summary[0].text  # type: ignore[attr-defined]
    assert "The registration was stored." in find(By.CSS_SELECTOR, "[role=status]").text
    row = find(By.XPATH, f"//tr[td[normalize-space()='{reference}']]")
    assert "CriminalExploitation" in row.text and "2020-03-15" in row.text
    link = row.find_element(By.TAG_NAME, "a").get_attribute("href")
    assert re.search(r"/en/registrations/[0-9a-f-]{36}/$", link)
    assert "Smit" not in link and "Smit" not in d.page_source  # type: ignore[attr-defined]

    # another organisation's user gets 404 for it
    d.delete_all_cookies()  # type: ignore[attr-defined]
    sign_in(d, registry, "kmar")
    d.get(link)  # type: ignore[attr-defined]
    assert find(By.TAG_NAME, "h1").text == "404"
    assert "Page not found." in d.page_source  # type: ignore[attr-defined]
    d.get(f"{registry.base}/en/registrations/")  # type: ignore[attr-defined]
    assert reference not in d.page_source  # type: ignore[attr-defined]
