"""Alerts: who gets which cluster, what the message says, and delivering it.

routing.route(match, rules, subscribers)   which alerts a match makes
render.render(...)                         the words of one alert
sender.Sender(...).deliver_due()           the outbox, delivered
digest.next_digest(...)                    when a digest goes out
"""
