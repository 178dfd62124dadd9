"""What the console knows and decides, without Textual: the model, the store and its views, routing rules,
presence, SLA and metrics, the outbox and drafts, config, secrets, sanitising, macros, and the hub that
merges the backends' events. It imports no Textual, no `ui`, no widgets and no concrete adapter."""
