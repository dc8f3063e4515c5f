"""Tools around the notebooks: exercise generation and checking, grading, slides.

Each submodule has a ``main(argv)`` and is run through ``python3 course.py <command>``.
"""
