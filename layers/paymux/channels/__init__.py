"""Channel adapters: each hides one provider's protocol behind `ChannelAdapter`."""
