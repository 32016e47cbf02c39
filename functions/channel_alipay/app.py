"""The alipay channel's function: payment creation and Alipay notifications."""

from __future__ import annotations

from paymux.api.channel_function import channel_lambda_handler
from paymux.domain.models import Channel

lambda_handler = channel_lambda_handler(Channel.ALIPAY)
