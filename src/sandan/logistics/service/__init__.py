"""The rules of the shared warehouse, one module per topic; functions take session and
principal, filter by owner inside the query and only flush."""
