import pytest
from django.utils import translation

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _english_unless_asked(request, settings):
    """The app speaks Indonesian by default (LANGUAGE_CODE "id" and the locale/id catalogue), but the assertions
    read the English msgids: tests run in English, both in the test itself and in the pages the test client
    gets. tests/test_i18n.py overrides this fixture to test the Indonesian default and the switcher; the browser
    tests (marked ``browser``) see the app as users do, Indonesian first."""
    if request.node.get_closest_marker("browser") is not None:
        yield
        return
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2's million iterations cost ~0.3 s per account created or logged in; no test here measures
    password strength, so the suite uses a fast hasher (tests/test_security.py checks the real settings)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_password_reset_padding(settings):
    """Every password-reset request is padded to PASSWORD_RESET_MIN_SECONDS (known and unknown addresses answer
    in the same time); tests/test_account_rules.py measures that with its own value, the rest need no wait."""
    settings.PASSWORD_RESET_MIN_SECONDS = 0


@pytest.fixture(autouse=True)
def _axes_off_unless_asked(request, settings):
    """django-axes needs the request in authenticate(), which ``client.login()`` does not pass (axes docs:
    turn it off in tests). tests/test_throttling.py marks itself ``axes`` to keep the throttling on."""
    if request.node.get_closest_marker("axes") is None:
        settings.AXES_ENABLED = False


@pytest.fixture
def staff(db):
    """Ministry staff who reads the pages in English (the assertions read the msgids)."""
    return UserFactory(language="en", username="kemendagri", role="ministry")


@pytest.fixture
def ministry_user(db):
    return UserFactory(username="staf", role="ministry")


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT, never the project's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def personas(db, settings):
    """The roles of the permission matrix. The default agreement (tests.factories.AgreementFactory) is
    between Kota Bandung (32.73) and Kabupaten Bandung (32.04), both in Jawa Barat (32)."""
    from tests.factories import region

    # Six accounts per test: a fast hasher keeps the suite quick (password strength is not tested here).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    return {
        "ministry": UserFactory(username="p-ministry", role="ministry"),
        "admin": UserFactory(username="p-admin", role="admin", is_staff=True, is_superuser=True),
        "province_in": UserFactory(username="p-jabar", role="province", region=region("32")),
        "province_out": UserFactory(username="p-jatim", role="province", region=region("35")),
        "local_in": UserFactory(username="p-kota-bandung", role="local", region=region("32.73")),
        "local_out": UserFactory(username="p-kab-bogor", role="local", region=region("32.01")),
    }


@pytest.fixture(autouse=True)
def _stored_status_holds_today(request):
    """Every test with a database starts with the thresholds row stamped for today (as the daily refresh leaves it
    in production), so that pages read the stored stage and stall flags and a write path that forgets to refresh
    them fails the test that reads them. tests/test_stored_status.py covers the computed fallback."""
    marker = request.node.get_closest_marker("django_db")
    if request.node.get_closest_marker("browser") is not None or not (
            {"db", "transactional_db"} & set(request.fixturenames) or marker):
        yield  # the browser tests' server refreshes the stored status itself after each flush
        return
    transactional = "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from agreements import datacache, stalls
    from agreements.models import StallSettings

    datacache.bump()  # no figure cached by an earlier test (its data rolled back) is read by this one
    settings_row = StallSettings.current()
    StallSettings.objects.filter(pk=settings_row.pk).update(
        status_date=stalls.today(), status_thresholds=stalls.Thresholds.current().key())
    yield
