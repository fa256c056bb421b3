"""The background loops: webhook delivery, e-mail, scheduled jobs (`salescore worker`)."""
