"""Kb files for tests: the text of one valid kb entry (front matter and answer) to copy and vary."""

from __future__ import annotations

# Every field set and valid; tests replace single lines (``VALID_ENTRY.replace("lang: de", "lang: xx")``).
VALID_ENTRY = """---
id: beispiel
title: Wie geht das?
questions:
  - Geht das so?
lang: de
tags: [test]
source: https://musterstadt.example/x
owner: Bürgeramt
updated: 2026-11-01
review_by: 2027-01-01
---
Die Antwort.
"""
