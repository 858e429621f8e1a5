"""Outbound channels (外发渠道): WeChat, SMS, WeCom, DingTalk, email. Each channel is a
module with a ``Channel`` subclass (base.py); registry.py lists them."""
