# Rasa server speed-ups (no effect outside a Rasa process): see bot/rasa_speedups.py
from bot.rasa_speedups import apply as _apply_rasa_speedups

_apply_rasa_speedups()
