"""The reliability suites' builds: the tiny sample, built by `blueprint run` in a subprocess (so a
kill takes the whole run), and the outputs of one uninterrupted build to compare with
(`blueprint_pipeline_tests/tiny_sample.py`, shared with other suites)."""

from blueprint_pipeline_tests.tiny_sample import AS_OF, CONFIG, build, start_build

__all__ = ["AS_OF", "CONFIG", "build", "start_build"]
