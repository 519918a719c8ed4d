# tests/: shared test support. Unit tests live in tests/unit/<dir>/ and are listed by the
# build.mk of the directory they test; system tests in tests/system/.
