"""Idempotency-Key for POSTs (`keys`): the stored responses (`models`), their admin and
`supply purge-idempotency-keys`. Used by the catalog and inventory views; depends on neither."""
