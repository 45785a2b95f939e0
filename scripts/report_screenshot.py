"""Make docs/report.png: the bundled example's report, opened in headless Chromium.

Usage (from the repository root, with chromium, chromium-driver and selenium installed)::

    python scripts/report_screenshot.py [docs/report.png]

It runs the README's report command on the bundled example, loads the page
from disk and saves the top of it (summary, money flow, inequality) as PNG.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

COMMAND = [
    "report", "graphlabor/data/example_edges.parquet", "--nodes", "graphlabor/data/example_nodes.parquet",
    "--group-by", "family", "--min-wage", "15", "--period", "day", "--levy", "0.1", "--floor", "15",
    "--grid", "damping=0.5,0.7,0.85", "--grid", "platform_share=0,0.2", "--grid", "kind_weight.view=0.2,1",
]
#: Height of the saved part of the page, in CSS pixels.
HEIGHT = 2300


def main(out: str = "docs/report.png") -> None:
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    tmp = tempfile.mkdtemp(prefix="gl-shot-")
    page = os.path.join(tmp, "report.html")
    subprocess.run([sys.executable, "-m", "graphlabor", *COMMAND, "-o", page], check=True)
    opts = webdriver.ChromeOptions()
    for f in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--hide-scrollbars", f"--user-data-dir={os.path.join(tmp, 'profile')}", f"--window-size=1280,{HEIGHT}"]:
        opts.add_argument(f)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    try:
        driver.get("file://" + page)
        shot = os.path.join(tmp, "shot.png")
        driver.save_screenshot(shot)
    finally:
        driver.quit()
    img = Image.open(shot).convert("RGB")
    # a smaller file for the repository; k-means refinement keeps thin marks their colour (median cut alone
    # turned the narrow "unpaid" node brown)
    img = img.quantize(colors=128, method=Image.Quantize.MEDIANCUT, kmeans=3)
    img.save(out, optimize=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {out} ({os.path.getsize(out) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main(*sys.argv[1:])
