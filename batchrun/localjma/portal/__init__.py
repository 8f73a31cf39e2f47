"""The local portal: web pages over the local JMA at ``/`` (the API stays under ``/api``).

A person sees batches and jobs live, starts a single job from a step's parameter form,
and uploads and downloads WorkData. The portal runs in the server's process and calls the
domain (``JobService``, ``Queries``, ``WorkDataService``) and the event broker directly
instead of its own HTTP API, because:

* the API key stays on the server: the browser holds only a session cookie, and no page
  or script ever needs the key to call the API;
* a refused request keeps its structure (which parameter, which lineage rule), so an
  error can be shown next to its form field instead of parsed out of a ProblemDetails body;
* starting a job is the very ``rapid_setup`` the API's ``RapidSetupJob`` runs, so the
  portal cannot drift from the platform's rules.

It uses nothing of the runner and nothing of the workers (``tests/test_import_rules.py``).
"""

from batchrun.localjma.portal.app import with_portal

__all__ = ["with_portal"]
