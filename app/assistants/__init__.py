"""Assistants (presets): a name, a system prompt, the sampling settings it sets, a preferred
model and a greeting. The built-ins ship with Hearth; the user's own are files in the data
folder; `in_force` says which value of each setting a reply uses, and where it comes from."""
