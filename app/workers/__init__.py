"""QObjects that live on their own QThreads and do the slow work."""
