"""Load test: ministry staff browsing the register; run by ``scripts/bench.py``.

    locust -f scripts/locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000

Each simulated user is already signed in: ``BENCH_SESSIONID`` is a session cookie the benchmark
obtained through the login form (50 users signing in at once would measure the password hasher,
not the pages). Without it, each user signs in with ``BENCH_USERNAME``/``BENCH_PASSWORD`` first.
``BENCH_AGREEMENT_IDS`` (comma-separated) are the agreement pages to open, ``BENCH_PROVINCE`` the
province used for filters and the region page, ``BENCH_REPORT_PATH`` one region's report
(``/reports/<code>/<period>/``). The mix is weighted towards the list and the agreement pages, as
staff open the dashboard, drill into a list, then open agreements; the reports and the API's
list (with the same session) are a small share.
"""

import os
import random
import re

from locust import HttpUser, between, task

AGREEMENT_IDS = [int(i) for i in os.environ.get("BENCH_AGREEMENT_IDS", "1").split(",") if i.strip()]
PROVINCE = os.environ.get("BENCH_PROVINCE", "35")
REPORT_PATH = os.environ.get("BENCH_REPORT_PATH", "")
SEARCHES = ["sampah", "wisata", "air minum", "banjir", "pendidikan", "pangan"]
STAGES = ["signed", "implementing", "expired"]


class MinistryStaff(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        sessionid = os.environ.get("BENCH_SESSIONID")
        if sessionid:
            self.client.cookies.set("sessionid", sessionid)
            return
        response = self.client.get("/accounts/login/", name="login form")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
        self.client.post(
            "/accounts/login/",
            data={"username": os.environ["BENCH_USERNAME"], "password": os.environ["BENCH_PASSWORD"],
                  "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
        )

    @task(3)
    def dashboard(self):
        self.client.get("/", name="dashboard")

    @task(1)
    def dashboard_province(self):
        self.client.get(f"/?province={PROVINCE}", name="dashboard ?province")

    @task(3)
    def agreement_list(self):
        page = random.randint(1, 20)
        self.client.get(f"/agreements/?page={page}", name="list")

    @task(2)
    def agreement_list_filtered(self):
        self.client.get(f"/agreements/?province={PROVINCE}&stalled=yes&stage={random.choice(STAGES)}",
                        name="list ?province&stalled&stage")

    @task(1)
    def agreement_search(self):
        self.client.get("/agreements/", params={"q": random.choice(SEARCHES)}, name="list ?q")

    @task(5)
    def agreement_page(self):
        self.client.get(f"/agreements/{random.choice(AGREEMENT_IDS)}/", name="agreement page")

    @task(2)
    def region_page(self):
        self.client.get(f"/regions/{PROVINCE}/", name="region page")

    @task(1)
    def affairs_map(self):
        self.client.get("/affairs/", name="affairs map")

    @task(1)
    def report_index(self):
        self.client.get("/reports/", name="report index")

    @task(1)
    def report_page(self):
        if REPORT_PATH:
            self.client.get(REPORT_PATH, name="report page")
        else:
            self.client.get("/reports/", name="report index")

    @task(1)
    def api_list(self):
        self.client.get("/api/v1/agreements/", params={"page": random.randint(1, 5)}, name="api list")
