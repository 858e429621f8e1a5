"""The read side (统计与报表): work queues, the ticket list, statistics,
scorecards, the monthly report, overdue tickets and deputies' statistics.
Nothing here changes a ticket.

May import: every other room of ``routing``.
"""
