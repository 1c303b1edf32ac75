"""Screens of the chat app: chat, history, population, help and the small modals."""
