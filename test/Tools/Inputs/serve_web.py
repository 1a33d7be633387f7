"""anvil-serve's demo page in a real headless browser (Debian's chromium
through chromedriver, driven by selenium): load GET /, submit a prompt,
wait for the streamed text, and check it is what the API returns for the
same greedy request.

    serve_web.py ARTIFACT
"""
import os
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from anvil_serve import AnvilServe, check  # noqa: E402

artifact = sys.argv[1]
PROMPT = "def fibonacci(n):\n"

with AnvilServe(artifact, deadline=240) as server:
    status, expected = server.request(
        "POST", "/v1/completions",
        {"prompt": PROMPT, "max_tokens": 24, "temperature": 0})
    check(status == 200, f"API: {status} {expected}")
    expected = PROMPT + expected["choices"][0]["text"]

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    # Debian's driver (lit.cfg.py found it on PATH), never one Selenium
    # Manager would download.
    service = webdriver.ChromeService(
        executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.get(server.url + "/")
        check(driver.title == "Anvil", f"title {driver.title!r}")
        wait = WebDriverWait(driver, 120)
        wait.until(lambda d: d.find_element(By.ID, "model").text == "m")
        print("page loaded; model m")
        prompt = driver.find_element(By.ID, "prompt")
        prompt.clear()
        prompt.send_keys(PROMPT)
        tokens = driver.find_element(By.ID, "max-tokens")
        tokens.clear()
        tokens.send_keys("24")
        driver.find_element(By.ID, "generate").click()
        wait.until(lambda d: d.find_element(By.ID, "status").text
                   .startswith(("done", "error", "stopped")))
        status_line = driver.find_element(By.ID, "status").text
        # textContent: the exact text, newlines and spaces included.
        output = driver.execute_script(
            "return document.getElementById('output').textContent")
        check(status_line.startswith("done (length)"), f"status {status_line}")
        check(output == expected,
              f"page shows {output!r}, the API gave {expected!r}")
        print("streamed into the page:", status_line.split(":")[0])
        print("the page's text is the API's")
    finally:
        driver.quit()
print(f"exit {server.returncode}")
