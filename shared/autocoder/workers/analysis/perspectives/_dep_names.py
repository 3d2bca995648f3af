"""Which modules a distribution provides, known without the target's environment.

deptry learns a distribution's import names from the metadata of the environment it runs in,
which is the worker's, not the target's: a package the worker lacks falls back to its own name,
so ``PyJWT`` would be declared-but-unused *and* ``jwt`` imported-but-missing. The map below holds
the common mismatches (from the distributions' own top_level.txt); every other distribution gets
the name it is normally imported under (``Flask-Login`` -> ``flask_login``).
"""

from __future__ import annotations

import re

KNOWN_MODULES: dict[str, tuple[str, ...]] = {
    "argon2-cffi": ("argon2",),
    "attrs": ("attr", "attrs"),
    "beautifulsoup4": ("bs4",),
    "pyjwt": ("jwt",),
    "pillow": ("PIL",),
    "pyyaml": ("yaml",),
    "python-dateutil": ("dateutil",),
    "python-dotenv": ("dotenv",),
    "python-multipart": ("multipart", "python_multipart"),
    "python-jose": ("jose",),
    "python-magic": ("magic",),
    "python-slugify": ("slugify",),
    "python-json-logger": ("pythonjsonlogger",),
    "python-decouple": ("decouple",),
    "scikit-learn": ("sklearn",),
    "scikit-image": ("skimage",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "opencv-contrib-python": ("cv2",),
    "protobuf": ("google.protobuf", "google"),
    "google-api-python-client": ("googleapiclient", "apiclient"),
    "google-cloud-storage": ("google.cloud.storage", "google"),
    "grpcio": ("grpc",),
    "psycopg2-binary": ("psycopg2",),
    "psycopg-binary": ("psycopg",),
    "mysqlclient": ("MySQLdb",),
    "pymysql": ("pymysql",),
    "pyserial": ("serial",),
    "pyzmq": ("zmq",),
    "pycryptodome": ("Crypto",),
    "pycryptodomex": ("Cryptodome",),
    "pyopenssl": ("OpenSSL",),
    "pynacl": ("nacl",),
    "pygithub": ("github",),
    "gitpython": ("git",),
    "django-cors-headers": ("corsheaders",),
    "djangorestframework": ("rest_framework",),
    "djangorestframework-simplejwt": ("rest_framework_simplejwt",),
    "django-environ": ("environ",),
    "django-filter": ("django_filters",),
    "django-crispy-forms": ("crispy_forms",),
    "django-debug-toolbar": ("debug_toolbar",),
    "django-redis": ("django_redis",),
    "django-storages": ("storages",),
    "django-allauth": ("allauth",),
    "django-extensions": ("django_extensions",),
    "dj-database-url": ("dj_database_url",),
    "drf-yasg": ("drf_yasg",),
    "drf-spectacular": ("drf_spectacular",),
    "flask-sqlalchemy": ("flask_sqlalchemy",),
    "flask-wtf": ("flask_wtf",),
    "typing-extensions": ("typing_extensions",),
    "importlib-metadata": ("importlib_metadata",),
    "msgpack-python": ("msgpack",),
    "ruamel-yaml": ("ruamel",),
    "setuptools": ("setuptools", "pkg_resources", "_distutils_hack"),
    "pywin32": ("win32api", "win32con", "win32com", "pywintypes", "win32file"),
    "websocket-client": ("websocket",),
    "faiss-cpu": ("faiss",),
    "tensorflow-cpu": ("tensorflow",),
    "torch": ("torch",),
    "markdown": ("markdown",),
    "dnspython": ("dns",),
    "ldap3": ("ldap3",),
    "python-ldap": ("ldap",),
    "pysocks": ("socks", "sockshandler"),
    "pyasn1-modules": ("pyasn1_modules",),
    "ua-parser": ("ua_parser",),
    "pillow-heif": ("pillow_heif",),
    "pyenchant": ("enchant",),
    "pywatchman": ("pywatchman",),
}
# Namespace packages: every distribution named with the prefix provides the shared top-level.
_NAMESPACES = ("sphinxcontrib", "zope", "jaraco", "backports", "azure", "google")

# Used without being imported: servers and tools started by name, data-only packages that the
# standard library reads (zoneinfo reads tzdata), packaging tools. Declaring them is not a mistake.
USED_WITHOUT_IMPORT = frozenset({
    "gunicorn", "uvicorn", "daphne", "hypercorn", "waitress", "granian", "supervisor",
    "tzdata", "pip", "wheel", "setuptools", "setuptools-scm", "certifi", "build", "twine",
    "uwsgi", "honcho", "newrelic", "ddtrace", "sentry-sdk",
})  # fmt: skip

# Standard library modules that the worker's Python may lack or still have: new in 3.11-3.14,
# or removed in 3.12/3.13. deptry takes its list from the Python it runs on.
STDLIB_ACROSS_VERSIONS = frozenset({
    "annotationlib", "compression", "tomllib", "zoneinfo", "graphlib", "_interpreters",
    "concurrent", "distutils", "imp", "asynchat", "asyncore", "smtpd", "aifc", "audioop", "cgi",
    "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib", "ossaudiodev",
    "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3", "_winapi",
    "winreg", "msvcrt", "_winreg", "__builtin__", "ConfigParser", "StringIO", "cPickle", "urllib2",
    "httplib", "Queue", "cStringIO", "urlparse", "_thread", "__future__", "__main__",
})  # fmt: skip


def import_names(distribution: str) -> tuple[str, ...]:
    """The top-level modules ``distribution`` (normalised) is imported as."""
    if known := KNOWN_MODULES.get(distribution):
        return tuple(sorted({name.split(".")[0] for name in known}))
    if (prefix := distribution.partition("-")[0]) in _NAMESPACES and "-" in distribution:
        return (prefix,)
    return (re.sub(r"[-.]", "_", distribution),)


def module_name_map(distributions: set[str]) -> dict[str, tuple[str, ...]]:
    """deptry's package_module_name_map for every declared distribution."""
    return {name: import_names(name) for name in sorted(distributions)}
