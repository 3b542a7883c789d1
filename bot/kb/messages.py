"""German and English texts of ``auskunft kb check``: one table, one entry per finding code.

Each code maps a language to ``(message, next step)``; placeholders such as ``{chars}``
are filled by :func:`bot.kb.i18n.render`, which writes numbers the way readers of that
language expect (``1.480`` and ``27,4`` in German, ``1,480`` and ``27.4`` in English).
To add a check, add its code here in both languages.
"""

from __future__ import annotations

from typing import Dict, Tuple

LANGS = ("de", "en")

MESSAGES: Dict[str, Dict[str, Tuple[str, str]]] = {
    # --- problems the loader rejects (always errors) -------------------------------
    "kb_missing": {
        "de": ("Der kb-Ordner wurde nicht gefunden.", "Prüfen Sie den Pfad (Standard: kb/)."),
        "en": ("The kb folder was not found.", "Check the path (default: kb/)."),
    },
    "kb_empty": {
        "de": ("Der kb-Ordner enthält keine Einträge (*.md-Dateien).", "Legen Sie mindestens einen Eintrag an."),
        "en": ("The kb folder has no entries (*.md files).", "Add at least one entry."),
    },
    "not_utf8": {
        "de": ("Die Datei ist nicht als UTF-8 gespeichert.", "Speichern Sie sie im Editor als „UTF-8“."),
        "en": ("The file is not saved as UTF-8.", "Save it as 'UTF-8' in your editor."),
    },
    "no_front_matter": {
        "de": ("Die Datei muss mit einer Zeile „---“ beginnen (Kopfbereich).",
               "Übernehmen Sie den Kopfbereich aus einem anderen Eintrag."),
        "en": ("The file must start with a '---' line (front matter).",
               "Copy the front matter from another entry."),
    },
    "front_matter_open": {
        "de": ("Der Kopfbereich wird nicht mit einer Zeile „---“ abgeschlossen.",
               "Fügen Sie nach dem letzten Feld eine Zeile „---“ ein."),
        "en": ("The front matter is not closed with a '---' line.", "Add a '---' line after the last field."),
    },
    "invalid_yaml": {
        "de": ("Der Kopfbereich ist fehlerhaft ({problem}).",
               "Prüfen Sie Doppelpunkte, Einrückung und Klammern in dieser Zeile."),
        "en": ("The front matter cannot be read ({problem}).", "Check colons, indentation and brackets on this line."),
    },
    "front_matter_not_mapping": {
        "de": ("Der Kopfbereich muss aus Zeilen „feld: wert“ bestehen.", "Vergleichen Sie mit einem anderen Eintrag."),
        "en": ("The front matter must consist of 'field: value' lines.", "Compare with another entry."),
    },
    "unknown_field": {
        "de": ("Unbekanntes Feld „{key}“.", "Tippfehler? Erlaubt sind: {allowed}."),
        "en": ("Unknown field '{key}'.", "A typo? Allowed are: {allowed}."),
    },
    "required_missing": {
        "de": ("Das Pflichtfeld „{key}“ fehlt oder ist leer.", "Tragen Sie „{key}:“ mit einem Wert ein."),
        "en": ("The required field '{key}' is missing or empty.", "Add '{key}:' with a value."),
    },
    "invalid_id": {
        "de": ("„{value}“ ist keine gültige id.", "Nur a-z, 0-9 und „-“, 2 bis 80 Zeichen, z. B. ausweis-beantragen."),
        "en": ("'{value}' is not a valid id.", "Use a-z, 0-9 and '-' only, 2 to 80 characters, e.g. apply-for-id."),
    },
    "invalid_title": {
        "de": ("Der Titel muss Text mit höchstens {max} Zeichen sein.", "Formulieren Sie die Frage kürzer."),
        "en": ("The title must be text of at most {max} characters.", "Phrase the question more briefly."),
    },
    "invalid_lang": {
        "de": ("Unbekannte Sprache „{value}“.", "Schreiben Sie „lang: de“ oder „lang: en“."),
        "en": ("Unknown language '{value}'.", "Write 'lang: de' or 'lang: en'."),
    },
    "invalid_source": {
        "de": ("„{value}“ ist keine Web-Adresse.", "Geben Sie die vollständige Adresse mit https:// an."),
        "en": ("'{value}' is not a web address.", "Give the full address starting with https://."),
    },
    "invalid_owner": {
        "de": ("„owner“ muss Text sein.", "Tragen Sie die zuständige Stelle ein, z. B. „owner: Bürgeramt“."),
        "en": ("'owner' must be text.", "Name the responsible department, e.g. 'owner: Bürgeramt'."),
    },
    "invalid_text_list": {
        "de": ("„{key}“ muss eine Liste nicht leerer Texte sein.", "Schreiben Sie jede Frage in eine Zeile „  - …“."),
        "en": ("'{key}' must be a list of non-empty texts.", "Put each question on its own '  - ...' line."),
    },
    "invalid_tags": {
        "de": ("„tags“ muss eine Liste kleingeschriebener Wörter sein.", "Zum Beispiel: tags: [ausweis, meldewesen]."),
        "en": ("'tags' must be a list of lowercase words.", "For example: tags: [ausweis, meldewesen]."),
    },
    "invalid_plain": {
        "de": ("„plain“ muss Text mit höchstens {max} Zeichen sein.",
               "Schreiben Sie die einfache Fassung nach „plain: |“ eingerückt."),
        "en": ("'plain' must be text of at most {max} characters.",
               "Write the plain version indented after 'plain: |'."),
    },
    "invalid_date": {
        "de": ("„{value}“ in „{key}“ ist kein Datum.", "Schreiben Sie das Datum als JJJJ-MM-TT, z. B. 2027-05-31."),
        "en": ("'{value}' in '{key}' is not a date.", "Write the date as YYYY-MM-DD, e.g. 2027-05-31."),
    },
    "review_before_updated": {
        "de": ("Das Prüfdatum {review_by} liegt vor dem Änderungsdatum {updated}.",
               "Setzen Sie „review_by“ auf ein späteres Datum."),
        "en": ("The review date {review_by} is before the update date {updated}.", "Set 'review_by' to a later date."),
    },
    "answer_empty": {
        "de": ("Die Antwort (Text nach dem Kopfbereich) ist leer.", "Schreiben Sie die Antwort unter die Zeile „---“."),
        "en": ("The answer (text after the front matter) is empty.", "Write the answer below the '---' line."),
    },
    "answer_over_limit": {
        "de": ("Die Antwort hat {chars} Zeichen; erlaubt sind höchstens {max}.",
               "Kürzen Sie sie oder teilen Sie sie auf mehrere Einträge auf."),
        "en": ("The answer has {chars} characters; at most {max} are allowed.",
               "Shorten it or split it into several entries."),
    },
    "duplicate_id": {
        "de": ("Die id „{id}“ wird auch in {other} verwendet.", "Geben Sie einem der beiden Einträge eine neue id."),
        "en": ("The id '{id}' is also used in {other}.", "Give one of the two entries a new id."),
    },
    # --- links --------------------------------------------------------------------
    "link_empty": {
        "de": ("Der Link „{text}“ hat keine Adresse.", "Tragen Sie die Adresse in die runden Klammern ein."),
        "en": ("The link '{text}' has no address.", "Put the address into the round brackets."),
    },
    "link_javascript": {
        "de": ("Der Link „{url}“ würde Programmcode im Browser ausführen; das ist nicht erlaubt.",
               "Verlinken Sie eine Seite mit https://."),
        "en": ("The link '{url}' would run program code in the browser; that is not allowed.",
               "Link to a page with https://."),
    },
    "link_malformed": {
        "de": ("„{url}“ ist keine gültige Link-Adresse.",
               "Verwenden Sie https://…, mailto:name@… oder tel:+49…, ohne Leerzeichen."),
        "en": ("'{url}' is not a valid link address.",
               "Use https://..., mailto:name@... or tel:+49..., without spaces."),
    },
    "link_http": {
        "de": ("Der Link „{url}“ ist unverschlüsselt (http).", "Prüfen Sie, ob die Seite mit https:// erreichbar ist."),
        "en": ("The link '{url}' is unencrypted (http).", "Check whether the page works with https://."),
    },
    "link_unreachable": {
        "de": ("Der Link „{url}“ ist nicht erreichbar ({status}).", "Suchen Sie die neue Adresse der Seite."),
        "en": ("The link '{url}' cannot be reached ({status}).", "Find the page's new address."),
    },
    "source_http": {
        "de": ("Die Quelle „{url}“ ist unverschlüsselt (http).", "Tragen Sie die https://-Adresse ein."),
        "en": ("The source '{url}' is unencrypted (http).", "Use the https:// address."),
    },
    # --- placeholders ---------------------------------------------------------------
    "placeholder": {
        "de": ("Platzhalter „{text}“: dieser Text ist noch nicht fertig und darf so nicht veröffentlicht werden.",
               "Ersetzen Sie den Platzhalter durch die richtige Angabe oder löschen Sie ihn."),
        "en": ("Placeholder '{text}': this text is not finished and must not be published like this.",
               "Replace the placeholder with the real information or delete it."),
    },
    # --- tags -----------------------------------------------------------------------
    "tags_file_missing": {
        "de": ("Es gibt keine Tag-Liste {path}; Tags werden nicht geprüft.",
               "Legen Sie die Datei mit den erlaubten Tags an."),
        "en": ("There is no tag list {path}; tags are not checked.", "Create the file with the allowed tags."),
    },
    "tags_file_invalid": {
        "de": ("Die Tag-Liste ist fehlerhaft ({problem}).",
               "Schreiben Sie eine Liste („- tag“) oder „tag: Beschreibung“-Zeilen."),
        "en": ("The tag list cannot be read ({problem}).", "Write a list ('- tag') or 'tag: description' lines."),
    },
    "tag_unknown": {
        "de": ("Der Tag „{tag}“ steht nicht in der Tag-Liste _tags.yml.",
               "Meinten Sie „{suggestion}“? Sonst ergänzen Sie den Tag in _tags.yml."),
        "en": ("The tag '{tag}' is not in the tag list _tags.yml.",
               "Did you mean '{suggestion}'? Otherwise add it to _tags.yml."),
    },
    "tag_unknown_no_match": {
        "de": ("Der Tag „{tag}“ steht nicht in der Tag-Liste _tags.yml.",
               "Nehmen Sie einen vorhandenen Tag oder ergänzen Sie ihn in _tags.yml."),
        "en": ("The tag '{tag}' is not in the tag list _tags.yml.", "Use an existing tag or add it to _tags.yml."),
    },
    # --- review dates ---------------------------------------------------------------
    "review_overdue": {
        "de": ("Die Überprüfung ist überfällig seit {days} Tagen (fällig am {date}).",
               "Prüfen Sie den Inhalt und setzen Sie „updated“ und „review_by“ neu."),
        "en": ("The review is overdue by {days} days (due {date}).",
               "Check the content, then set 'updated' and 'review_by' anew."),
    },
    "review_missing": {
        "de": ("Es ist kein Prüfdatum („review_by“) gesetzt.", "Tragen Sie ein, bis wann der Eintrag geprüft wird."),
        "en": ("No review date ('review_by') is set.", "Add the date by which the entry will be reviewed."),
    },
    # --- length ---------------------------------------------------------------------
    "answer_too_long": {
        "de": ("Die Antwort hat {chars} Zeichen; in einem Chatfenster liest man höchstens etwa {max}.",
               "Kürzen Sie sie oder verlinken Sie Details."),
        "en": ("The answer has {chars} characters; in a chat window people read about {max} at most.",
               "Shorten it or link to the details."),
    },
    "paragraph_too_long": {
        "de": ("Dieser Absatz hat {chars} Zeichen (empfohlen: höchstens {max}).",
               "Teilen Sie ihn auf oder machen Sie eine Liste daraus."),
        "en": ("This paragraph has {chars} characters (recommended: at most {max}).",
               "Split it or turn it into a list."),
    },
    "sentence_too_long": {
        "de": ("Ein Satz hat {words} Wörter (empfohlen: höchstens {max}): „{start}…“.",
               "Teilen Sie ihn in kürzere Sätze."),
        "en": ("A sentence has {words} words (recommended: at most {max}): '{start}...'.",
               "Split it into shorter sentences."),
    },
    # --- plain language -------------------------------------------------------------
    "plain_missing": {
        "de": ("Es gibt keine Fassung in Einfacher Sprache („plain“).",
               "Ergänzen Sie im Kopfbereich „plain: |“ mit kurzen Sätzen und bekannten Wörtern."),
        "en": ("There is no plain-language version ('plain').",
               "Add 'plain: |' to the front matter, with short sentences and common words."),
    },
    "hard_to_read": {
        "de": ("Die Antwort ist sehr schwer lesbar (Lesbarkeitswert {score}, unter {min}).",
               "Schreiben Sie kürzere Sätze und kürzere Wörter."),
        "en": ("The answer is very hard to read (reading ease {score}, below {min}).",
               "Use shorter sentences and shorter words."),
    },
    "plain_hard_to_read": {
        "de": ("Die einfache Fassung ist nicht einfach genug (Lesbarkeitswert {score}, Ziel: mindestens {min}).",
               "Ein Gedanke pro Satz; lange Wörter mit Bindestrich teilen oder ersetzen."),
        "en": ("The plain version is not plain enough (reading ease {score}, target: at least {min}).",
               "One idea per sentence; replace long words."),
    },
    # --- test questions -------------------------------------------------------------
    "test_is_phrasing": {
        "de": ("Die Testfrage „{question}“ steht auch im Titel oder in „questions“; sie prüft so nichts.",
               "Formulieren Sie die Testfrage anders, so wie Bürgerinnen und Bürger fragen würden."),
        "en": ("The test question '{question}' is also the title or in 'questions', so it tests nothing.",
               "Phrase the test question differently, the way citizens would ask."),
    },
}
