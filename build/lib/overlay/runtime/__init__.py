"""The live service's moving parts: the one dispatch, the snapshot fan-out, who may command."""
