"""Every text the bot says, in German and English (one translation table)."""

from __future__ import annotations

from typing import Dict

TEXTS: Dict[str, Dict[str, str]] = {
    "greet": {
        "de": "Guten Tag! Ich bin der digitale Assistent des Bürgerservice. Stellen Sie mir Ihre Frage, "
        "zum Beispiel: „Wie beantrage ich einen Personalausweis?“",
        "en": "Hello! I am the city's digital assistant. Ask me your question, for example: "
        "“How do I register my address?”",
    },
    "goodbye": {"de": "Auf Wiedersehen und einen schönen Tag!", "en": "Goodbye and have a nice day!"},
    "thanks": {"de": "Gern geschehen! Kann ich noch etwas für Sie tun?",
               "en": "You're welcome! Is there anything else I can do for you?"},
    "bot_challenge": {
        "de": "Ich bin ein digitaler Assistent, kein Mensch. Wenn Sie möchten, leite ich Ihr Anliegen "
        "an eine Mitarbeiterin oder einen Mitarbeiter weiter.",
        "en": "I am a digital assistant, not a person. If you like, I can pass your question on to "
        "a member of staff.",
    },
    "glad": {"de": "Das freut mich! Haben Sie noch eine Frage?", "en": "Glad to hear it! Any other question?"},
    "ok": {"de": "In Ordnung. Stellen Sie gern eine neue Frage.",
           "en": "All right. Feel free to ask another question."},
    "not_understood": {
        "de": "Das habe ich leider nicht verstanden. Bitte schreiben Sie Ihre Frage in ganzen Worten, zum "
        "Beispiel: „Wie beantrage ich einen Personalausweis?“ Sie können auch mit einem Menschen sprechen.",
        "en": "Sorry, I did not understand that. Please write your question in words, for example: "
        "“How do I register my address?” You can also talk to a person.",
    },
    "talk_to_person": {"de": "Mit einem Menschen sprechen", "en": "Talk to a person"},
    "source": {"de": "Quelle", "en": "Source"},
    "helpful": {"de": "Hat geholfen", "en": "This helped"},
    "not_helpful": {"de": "Hat nicht geholfen", "en": "Did not help"},
    "clarify": {"de": "Ich bin nicht ganz sicher, was Sie meinen. Meinten Sie eines davon?",
                "en": "I am not quite sure what you mean. Did you mean one of these?"},
    "none_of_these": {"de": "Nichts davon", "en": "None of these"},
    "handoff_low_confidence": {"de": "Dazu habe ich leider keine verlässliche Antwort.",
                               "en": "I'm sorry, I don't have a reliable answer to that."},
    "handoff_no_candidates": {"de": "Dazu habe ich leider keine verlässliche Antwort.",
                              "en": "I'm sorry, I don't have a reliable answer to that."},
    "handoff_repeated_miss": {"de": "Ich finde leider keine passende Antwort.",
                              "en": "I'm sorry, I can't find a matching answer."},
    "handoff_choices_rejected": {"de": "Schade, dann finde ich keine passende Antwort.",
                                 "en": "Sorry, then I can't find a matching answer."},
    "handoff_asked_for_human": {"de": "Gern gebe ich Ihr Anliegen an einen Menschen weiter.",
                                "en": "Of course, I can pass your question on to a person."},
    "handoff_withdrawn": {"de": "Die Information dazu wird gerade überprüft, deshalb gebe ich sie im Moment nicht aus.",
                          "en": "The information on this is being reviewed, so I am not giving it out right now."},
    "handoff_not_helpful": {"de": "Das tut mir leid.", "en": "I'm sorry about that."},
    "ask_consent": {
        "de": "Darf ich Ihre Frage und diesen Chatverlauf an das Team des Bürgerservice weiterleiten? "
        "Eine Mitarbeiterin oder ein Mitarbeiter beantwortet sie dann. Persönliche Daten wie "
        "Telefonnummern entfernen wir vor dem Speichern.",
        "en": "May I forward your question and this chat to the city's service team? A member of staff "
        "will answer it. Personal data such as phone numbers is removed before storing.",
    },
    "consent_yes": {"de": "Ja, weiterleiten", "en": "Yes, forward it"},
    "consent_no": {"de": "Nein, danke", "en": "No, thanks"},
    "ask_email": {
        "de": "Möchten Sie die Antwort auch per E-Mail erhalten? Dann schreiben Sie mir Ihre E-Mail-Adresse. "
        "Das ist freiwillig.",
        "en": "Would you like to receive the answer by e-mail as well? Then type your e-mail address. "
        "This is optional.",
    },
    "skip_email": {"de": "Ohne E-Mail weiter", "en": "Continue without e-mail"},
    "invalid_email": {"de": "Das sieht nicht wie eine E-Mail-Adresse aus (Beispiel: name@beispiel.de). "
                      "Bitte noch einmal, oder wählen Sie „Ohne E-Mail weiter“.",
                      "en": "That does not look like an e-mail address (example: name@example.org). "
                      "Please try again, or choose “Continue without e-mail”."},
    "not_forwarded": {"de": "In Ordnung, ich habe nichts weitergeleitet. Sie können gern eine neue Frage stellen.",
                      "en": "All right, nothing was forwarded. Feel free to ask another question."},
    "ticket_created": {
        "de": "Ihr Anliegen wurde weitergeleitet. Ihre Fallnummer ist **{case}**. Bitte notieren Sie sie; "
        "damit können Sie die Antwort später abrufen.",
        "en": "Your question has been forwarded. Your case number is **{case}**. Please note it down; "
        "you can use it to look up the answer later.",
    },
    "ticket_queued": {
        "de": "Ihr Anliegen ist gespeichert, Ihre Fallnummer ist **{case}**. Unser Ticketsystem ist gerade "
        "nicht erreichbar; wir leiten Ihr Anliegen automatisch weiter, sobald es wieder verfügbar ist. "
        "Es geht nichts verloren.",
        "en": "Your question has been saved, your case number is **{case}**. Our ticket system is unavailable "
        "right now; we will forward your question automatically as soon as it is back. Nothing is lost.",
    },
    "ticket_refused": {
        "de": "Gerade erreichen uns sehr viele Anfragen aus Ihrem Netz, deshalb kann ich Ihr Anliegen im Moment "
        "nicht weiterleiten. Ihre Nachricht bleibt hier im Gespräch gespeichert. Bitte versuchen Sie es in "
        "{minutes} Minuten noch einmal oder wenden Sie sich telefonisch, per E-Mail oder persönlich an die Verwaltung.",
        "en": "We are receiving a great many requests from your network right now, so I cannot forward your question "
        "at the moment. Your message stays saved in this conversation. Please try again in {minutes} minutes or "
        "contact the office by phone, e-mail or in person.",
    },
    "out_of_hours": {"de": "Das Team ist gerade nicht im Dienst; Ihr Anliegen wird ab {day}, {time} Uhr bearbeitet.",
                     "en": "The team is not on duty right now; your question will be handled from {day}, {time}."},
    "queue_position": {"de": "Ihr Anliegen ist an Position {position} der Warteschlange.",
                       "en": "Your question is number {position} in the queue."},
    "weekday_0": {"de": "Montag", "en": "Monday"},
    "weekday_1": {"de": "Dienstag", "en": "Tuesday"},
    "weekday_2": {"de": "Mittwoch", "en": "Wednesday"},
    "weekday_3": {"de": "Donnerstag", "en": "Thursday"},
    "weekday_4": {"de": "Freitag", "en": "Friday"},
    "weekday_5": {"de": "Samstag", "en": "Saturday"},
    "weekday_6": {"de": "Sonntag", "en": "Sunday"},
    "email_note": {"de": "Wir schreiben Ihnen an die angegebene E-Mail-Adresse.",
                   "en": "We will write to the e-mail address you gave."},
    "no_index": {"de": "Der Assistent wird gerade aktualisiert. Bitte versuchen Sie es in einer Minute erneut.",
                 "en": "The assistant is being updated. Please try again in a minute."},
}


def say(key: str, lang: str, **values: str) -> str:
    """The text for ``key`` in ``lang`` (German if the language is unknown)."""
    table = TEXTS[key]
    text = table.get(lang) or table["de"]
    return text.format(**values) if values else text
