"""The coursework tools: exercise notebooks from lessons, checking and grading submissions.

The flow of one check, module by module:

    notebook   notebooks as JSON dicts, cell helpers, bilingual errors
    lesson     solution markers, exercises and check cells, author metadata (wrong answers,
               hidden checks)
    generate   the exercise notebook of a lesson (= the reference of a check)
    match      the student's notebook -> their answers (by cell id, or by content)
    merge      the notebook to run: reference + answers (+ injected hidden-check cells)
    run        nbval in a child process; sandbox: its confinement (bubblewrap, unshare)
    probe      the pytest plugin inside that run that records nbval's per-cell verdicts
    hidden     hidden checks: injected cell, trusted reference run, loading and comparison
    verdict    records + hidden values -> one status per exercise
    checker    the steps above for one submission
    report     the text a student reads; cli and plugin: the entry points

``course_tools.check``, ``course_tools.grade`` and ``course_tools.exercises`` are the commands.
"""
