//! Task files in and out: JSON, JSONL, CSV, Label Studio exports and COCO.
