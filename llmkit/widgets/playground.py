"""Playground: picker + config form + prompt + Send; the answer streams in, then latency, TTFT, tokens and cost.

Each model keeps its own conversation (a BaseLLM per identifier). Changing the form's config continues the same
conversation with the new settings (the history is carried into a fresh client), "New chat" forgets it.
In Jupyter, Send schedules the call on the kernel's loop; in code, `await playground.send_prompt("...")` or
`playground.send_prompt_sync("...")` return the CompleteResponse (None on error; the error is shown and kept in
`.last_error`). (Not `send`: that name is ipywidgets' own method for custom messages to the front end.)
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

import ipywidgets as w

from llmkit.base import BaseLLM
from llmkit.config import LLMConfig
from llmkit.display import error_html, format_usd, stats_line
from llmkit.factory import LLMFactory
from llmkit.messages import CompleteResponse, Role, TokenUsage
from llmkit.tokens import count_message_tokens
from llmkit.widgets._run import Progress, progress_line, schedule, stream_reply
from llmkit.widgets.form import ConfigForm
from llmkit.widgets.picker import ModelPicker

_PRE = "white-space:pre-wrap;margin:0;font-family:var(--jp-code-font-family, monospace)"
_SMALL = "font-size:85%;line-height:1.35"


class Playground(w.VBox):  # type: ignore[misc]
    """One prompt box, one streaming answer, per-model conversations; see the module docstring."""

    def __init__(self, model: str | None = None, prompt: str = "", **kwargs: Any) -> None:
        self.picker = ModelPicker(value=model)
        self.form = ConfigForm().bind(self.picker)
        self.prompt = w.Textarea(value=prompt, placeholder="Type a prompt…", rows=3,
                                 layout=w.Layout(width="95%"))
        self.send_button = w.Button(description="Send", button_style="primary", icon="paper-plane",
                                    tooltip="send the prompt to the chosen model")
        self.stop_button = w.Button(description="Stop", icon="stop", disabled=True, tooltip="cancel the stream")
        self.new_chat_button = w.Button(description="New chat", icon="eraser",
                                        tooltip="forget this model's conversation")
        self.transcript = w.HTML()
        self.reasoning = w.HTML()
        self.reasoning_box = w.Accordion(children=[self.reasoning], selected_index=None,
                                         layout=w.Layout(display="none"))
        self.reasoning_box.set_title(0, "Reasoning")
        self.answer = w.HTML()
        self.status = w.HTML()
        self.last_response: CompleteResponse | None = None
        self.last_error: BaseException | None = None
        self.pending: asyncio.Future[CompleteResponse | None] | None = None
        self._llms: dict[str, BaseLLM] = {}
        self._configs: dict[str, LLMConfig] = {}
        params = w.Accordion(children=[self.form], selected_index=0)
        params.set_title(0, "Parameters")
        super().__init__([self.picker, params, self.prompt,
                          w.HBox([self.send_button, self.stop_button, self.new_chat_button]),
                          self.transcript, self.reasoning_box, self.answer, self.status], **kwargs)
        self.add_class("llmkit-playground")
        self.send_button.on_click(self._on_send)
        self.stop_button.on_click(lambda _b: self.stop())
        self.new_chat_button.on_click(lambda _b: self.new_chat())
        self.picker.observe(lambda _c: self._show_conversation(), "value")
        self.form.observe(lambda _c: self._update_send(), "error")
        self._update_send()

    # ----- public ----------------------------------------------------------------------------------------
    @property
    def llm(self) -> BaseLLM | None:
        """The conversation of the chosen model, if one has started."""
        return self._llms.get(self.picker.value or "")

    async def send_prompt(self, prompt: str | None = None) -> CompleteResponse | None:
        """Send the prompt (default: the text box) to the chosen model with the form's config and stream it."""
        text = self.prompt.value if prompt is None else prompt
        self.last_error = None
        try:
            if not text.strip():
                raise ValueError("type a prompt first")
            if not self.picker.value:
                raise ValueError("choose a model first")
            llm = self._llm_for(self.picker.value, self.form.config)
        except Exception as exc:  # shown in the widget: a form/config problem is the user's to fix
            self._show_error(exc)
            return None
        self._render_transcript(llm)
        self.answer.value, self.reasoning.value, self.status.value = "", "", ""
        self.reasoning_box.layout.display = "none"
        self.send_button.disabled, self.stop_button.disabled = True, False
        input_estimate = count_message_tokens([*(m.content for m in llm.messages), text])

        def show(progress: Progress) -> None:
            self._show_text(progress.content, progress.reasoning)
            cost = llm.price_usage(TokenUsage(input_tokens=input_estimate, output_tokens=progress.output_tokens))
            self.status.value = (f"<div style='{_SMALL}'>{html.escape(progress_line(progress))} · "
                                 f"~{format_usd(cost.total_cost)}</div>")

        try:
            response = await stream_reply(llm, text, show)
        except asyncio.CancelledError:
            self.status.value = f"<div style='{_SMALL}'>stopped</div>"
            raise
        except Exception as exc:  # any failure becomes one readable line, with what arrived before it
            partial = getattr(exc, "partial_content", None)
            if partial:
                self.answer.value = f"<pre style='{_PRE}'>{html.escape(partial)}</pre>"
            self._show_error(exc)
            return None
        finally:
            self.stop_button.disabled = True
            self._update_send()
        self._show_text(response.content, response.reasoning or "")
        self.status.value = f"<div class='llmkit-stats' style='{_SMALL}'>{html.escape(stats_line(response))}</div>"
        self.last_response = response
        return response

    def send_prompt_sync(self, prompt: str | None = None) -> CompleteResponse | None:
        """`send_prompt` for scripts and sync tests (blocks until the answer is complete)."""
        from llmkit._sync import run_sync

        return run_sync(self.send_prompt(prompt))

    async def wait(self) -> CompleteResponse | None:
        """Wait for the call started by the Send button (if any) and return its response."""
        if self.pending is not None:
            try:
                await self.pending
            except asyncio.CancelledError:
                return None
        return self.last_response

    def stop(self) -> None:
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()

    def new_chat(self) -> None:
        """Forget the chosen model's conversation."""
        llm = self._llms.pop(self.picker.value or "", None)
        if llm is not None:
            self._configs.pop(self.picker.value or "", None)
        self.transcript.value = self.answer.value = self.status.value = self.reasoning.value = ""
        self.reasoning_box.layout.display = "none"

    # ----- internals -------------------------------------------------------------------------------------
    def _on_send(self, _button: w.Button) -> None:
        result = schedule(self.send_prompt())
        self.pending = result if isinstance(result, asyncio.Future) else None

    def _llm_for(self, identifier: str, config: LLMConfig) -> BaseLLM:
        """This model's conversation, recreated with the history carried over when the config changed."""
        old = self._llms.get(identifier)
        if old is not None and self._configs.get(identifier) == config:
            return old
        llm = LLMFactory.create_llm(identifier, config)
        if old is not None:
            for message in old.messages:
                if message.role is Role.USER:
                    llm.add_user_message(message.content, message.images)
                elif message.role is Role.ASSISTANT:
                    llm.add_assistant_message(message.content, message.reasoning)
        self._llms[identifier], self._configs[identifier] = llm, config
        return llm

    def _show_text(self, content: str, reasoning: str) -> None:
        self.answer.value = f"<pre class='llmkit-answer' style='{_PRE}'>{html.escape(content)}</pre>"
        if reasoning:
            self.reasoning.value = f"<pre style='{_PRE};color:#555'>{html.escape(reasoning)}</pre>"
            self.reasoning_box.layout.display = None

    def _show_error(self, exc: BaseException) -> None:
        self.last_error = exc
        self.status.value = f"<div style='{_SMALL}'>{error_html(exc)}</div>"

    def _show_conversation(self) -> None:
        llm = self.llm
        self.answer.value = self.status.value = self.reasoning.value = ""
        self.reasoning_box.layout.display = "none"
        self._render_transcript(llm)

    def _render_transcript(self, llm: BaseLLM | None) -> None:
        turns = [m for m in (llm.messages if llm else []) if m.role is not Role.SYSTEM]
        rows = [
            f"<div style='margin:2px 0'><b>{'You' if m.role is Role.USER else 'Model'}:</b> "
            f"<span style='white-space:pre-wrap'>{html.escape(m.content)}</span></div>"
            for m in turns
        ]
        style = "color:#444;line-height:1.35"
        self.transcript.value = f"<div class='llmkit-transcript' style='{style}'>{''.join(rows)}</div>" if rows else ""

    def _update_send(self) -> None:
        busy = self.pending is not None and not self.pending.done() and not self.stop_button.disabled
        self.send_button.disabled = busy or bool(self.form.error)
        self.send_button.tooltip = self.form.error or "send the prompt to the chosen model"
