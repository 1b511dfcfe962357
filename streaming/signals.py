"""Signals other apps connect to, so that streaming never has to know them."""

from django.dispatch import Signal

# Sent by execution.finish_run once a run's end is recorded and its `complete` event published,
# with `run` (the Run, fresh from the database). Receivers run on the run's thread: anything slow
# belongs on a thread of its own. A receiver that raises is logged and does not change the run.
run_finished = Signal()
