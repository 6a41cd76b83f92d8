"""The warehouse's HTTP routes by topic; `sandan.logistics.api` mounts them."""
