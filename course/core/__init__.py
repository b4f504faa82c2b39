"""The pure core: case records, loading and validating a case pack, what each agency held and when, dates,
the source, the answers document format and the contract between the parts. Imports nothing else of the course."""
