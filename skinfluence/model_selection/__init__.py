"""Model selection by approximate leave-one-out: one fit per grid value, no folds."""

from ._search import ALOSearchCV

__all__ = ["ALOSearchCV"]
