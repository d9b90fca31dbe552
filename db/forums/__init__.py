"""The forums area's queries, over a connection already routed to the forum's territory:
records (``records.py``), batched reads (``reads.py``), topic and comment writes (``writes.py``),
and moderation (``moderation.py``). People are (territory, user id) references throughout.
"""
