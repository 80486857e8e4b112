"""Routing: analysed items → decisions, tickets (incidents) with SLA clocks, and delivery to agencies.

See routing/README.md. Entry points: stage.route_items, sla.check_sla, delivery.deliver_pending,
lifecycle.*, review.resolve_review, rules.check_rules / rules.replay, policy.load_policy.
"""
