"""WSGI entry point for gunicorn."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kerjasama.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the app's modules, the settings) lives as long as the process: moved out of the
# garbage collector's generations, so that its full collections, which pause a request, do not walk it again and
# again (docs/performance.md, "Tails").
gc.collect()
gc.freeze()
