"""The local web app (``matdiff serve``, extra ``matdiff[web]``): a page and a JSON API."""
