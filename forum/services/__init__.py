"""The rules. Each service takes an explicit actor, checks permissions, writes and flushes.
None commits: the web layer's commit point does (see forum.web.commit_point)."""
