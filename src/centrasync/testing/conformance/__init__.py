"""The emulators' answers checked against schemas written from the vendors' documentation.

Each vendor API has an OpenAPI 3.1 document in this package, written from the vendor's
texts and examples (``shared/reference``, Ongoing's published example payloads), never from
the emulators' code, so a drift of the emulator from the vendor shows as a failed check:

- ``centra-order-api.json``: Centra's Order API at ``/api/{uri}`` and the Webhook
  plugin's Integration API payloads (under ``webhooks``);
- ``ongoing-rest-v1.json``: Ongoing WMS's REST API at ``/{warehouse}/api/v1``.

:class:`ApiSchema` checks one answer; :class:`ConformanceRecorder` is an httpx response hook
that checks every answer a client sees and fails on any route the document does not
describe. A merchant's CI can run the same check on its own emulator setup::

    recorder = ConformanceRecorder(ApiSchema.load("ongoing-rest-v1"))
    async with httpx.AsyncClient(..., event_hooks={"response": [recorder.hook]}) as client:
        ...  # drive the emulator
    recorder.assert_conforming()
"""

from __future__ import annotations

from .recorder import ConformanceRecorder, Seen
from .schema import ApiSchema, Operation, load_document

__all__ = ["ApiSchema", "ConformanceRecorder", "Operation", "Seen", "load_document"]
