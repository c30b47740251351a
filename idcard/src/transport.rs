//! Transports: the [`Transport`] trait the reader logic is generic over, PC/SC through
//! pcsc-lite (with a cancellable wait for card insertion / removal), an in-process transport
//! to the software card, and an APDU-counting wrapper.

use crate::error::TransportError;
use crate::softcard::SoftCard;
use std::ffi::CString;
use std::time::Duration;

/// Send one command APDU, get the response APDU (data + SW1 SW2).
pub trait Transport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(apdu)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(apdu)
    }
}

/// The software card called directly, without pcscd (the kiosk's fallback and unit tests).
pub struct InProcess {
    pub card: SoftCard,
}

impl Transport for InProcess {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.process(apdu))
    }
}

/// Counts APDUs and bytes going through another transport.
#[derive(Debug, Default)]
pub struct Counting<T> {
    pub inner: T,
    pub apdus: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
}

impl<T> Counting<T> {
    pub fn new(inner: T) -> Self {
        Counting {
            inner,
            apdus: 0,
            bytes_sent: 0,
            bytes_received: 0,
        }
    }
}

impl<T: Transport> Transport for Counting<T> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.apdus += 1;
        self.bytes_sent += apdu.len();
        let r = self.inner.transmit(apdu)?;
        self.bytes_received += r.len();
        Ok(r)
    }
}

fn map_pcsc(e: pcsc::Error) -> TransportError {
    use pcsc::Error as E;
    match e {
        E::RemovedCard
        | E::ResetCard
        | E::UnpoweredCard
        | E::UnresponsiveCard
        | E::ReaderUnavailable => TransportError::CardRemoved,
        E::NoSmartcard => TransportError::NoCard,
        E::NoReadersAvailable | E::UnknownReader => TransportError::NoReader,
        E::Cancelled => TransportError::Cancelled,
        E::Timeout => TransportError::Timeout,
        other => TransportError::Reader(other.to_string()),
    }
}

/// A card connected through PC/SC. pcsc-lite handles T=0 / T=1.
pub struct PcscTransport {
    card: pcsc::Card,
    buf: Vec<u8>,
}

impl PcscTransport {
    /// Connect to the card in `reader` (shared mode, T=0 or T=1).
    pub fn connect(reader: &str) -> Result<PcscTransport, TransportError> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(map_pcsc)?;
        let name = CString::new(reader).map_err(|_| TransportError::NoReader)?;
        let card = ctx
            .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .map_err(map_pcsc)?;
        Ok(PcscTransport {
            card,
            buf: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        })
    }

    /// The card's ATR (vpcd does not support the ATR attribute, so use SCardStatus).
    pub fn atr(&self) -> Result<Vec<u8>, TransportError> {
        self.card
            .status2_owned()
            .map(|s| s.atr().to_vec())
            .map_err(map_pcsc)
    }
}

impl PcscTransport {
    /// A transmit failed without saying why (pcscd reports SCARD_E_NOT_TRANSACTED when the
    /// card vanished mid-command): ask pcscd for the card's state for up to 1.5 s.
    fn after_failed_transmit(&self) -> TransportError {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(1500) {
            match self.card.status2_owned() {
                Err(e) => return map_pcsc(e),
                Ok(s) if !s.status().contains(pcsc::Status::PRESENT) => {
                    return TransportError::CardRemoved;
                }
                Ok(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        TransportError::Reader("communication with the card failed".into())
    }
}

impl Transport for PcscTransport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        match self.card.transmit(apdu, &mut self.buf) {
            Ok(r) if r.len() >= 2 && r[r.len() - 2] == 0x61 => {
                // T=0: the card has more data; fetch it with GET RESPONSE (transport level).
                let mut data = r[..r.len() - 2].to_vec();
                let mut le = r[r.len() - 1];
                for _ in 0..256 {
                    let resp = match self.card.transmit(
                        &[apdu.first().copied().unwrap_or(0) & 0x03, 0xC0, 0, 0, le],
                        &mut self.buf,
                    ) {
                        Ok(r) if r.len() >= 2 => r,
                        Ok(_) | Err(pcsc::Error::NotTransacted | pcsc::Error::CommError) => {
                            return Err(self.after_failed_transmit());
                        }
                        Err(e) => return Err(map_pcsc(e)),
                    };
                    let (d, sw) = resp.split_at(resp.len() - 2);
                    data.extend_from_slice(d);
                    if sw[0] != 0x61 {
                        data.extend_from_slice(sw);
                        return Ok(data);
                    }
                    le = sw[1];
                }
                Err(TransportError::Reader("endless GET RESPONSE chain".into()))
            }
            Ok(r) if r.len() >= 2 => Ok(r.to_vec()),
            Ok(_) => Err(self.after_failed_transmit()),
            Err(pcsc::Error::NotTransacted | pcsc::Error::CommError) => {
                Err(self.after_failed_transmit())
            }
            Err(e) => Err(map_pcsc(e)),
        }
    }
}

/// Names of the PC/SC readers.
pub fn list_readers() -> Result<Vec<String>, TransportError> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(map_pcsc)?;
    let readers = match ctx.list_readers_owned() {
        Ok(r) => r,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(vec![]),
        Err(e) => return Err(map_pcsc(e)),
    };
    Ok(readers
        .into_iter()
        .map(|r| r.to_string_lossy().into_owned())
        .collect())
}

/// Cancels a pending wait of a [`CardWatcher`] from another thread.
#[derive(Clone)]
pub struct Canceller(pcsc::Context);

impl Canceller {
    pub fn cancel(&self) {
        if let Err(e) = self.0.cancel() {
            tracing::debug!("SCardCancel: {e}");
        }
    }
}

/// Waits for cards to be inserted or removed (SCardGetStatusChange).
pub struct CardWatcher {
    ctx: pcsc::Context,
}

impl CardWatcher {
    pub fn new() -> Result<CardWatcher, TransportError> {
        Ok(CardWatcher {
            ctx: pcsc::Context::establish(pcsc::Scope::User).map_err(map_pcsc)?,
        })
    }

    pub fn canceller(&self) -> Canceller {
        Canceller(self.ctx.clone())
    }

    fn states(&self, reader: Option<&str>) -> Result<Vec<pcsc::ReaderState>, TransportError> {
        let mut names: Vec<CString> = match self.ctx.list_readers_owned() {
            Ok(r) => r,
            Err(pcsc::Error::NoReadersAvailable) => vec![],
            Err(e) => return Err(map_pcsc(e)),
        };
        if let Some(r) = reader {
            names.retain(|n| n.to_string_lossy() == r);
        }
        let mut states: Vec<pcsc::ReaderState> = names
            .into_iter()
            .map(|n| pcsc::ReaderState::new(n, pcsc::State::UNAWARE))
            .collect();
        states.push(pcsc::ReaderState::new(
            pcsc::PNP_NOTIFICATION(),
            pcsc::State::UNAWARE,
        ));
        Ok(states)
    }

    /// Block until a card is present (in `reader`, or in any reader); returns the reader
    /// name. `None` timeout waits forever; [`Canceller::cancel`] interrupts.
    pub fn wait_for_card(
        &self,
        reader: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<String, TransportError> {
        self.wait(reader, timeout, true)
    }

    /// Block until the card in `reader` is removed.
    pub fn wait_for_removal(
        &self,
        reader: &str,
        timeout: Option<Duration>,
    ) -> Result<(), TransportError> {
        self.wait(Some(reader), timeout, false).map(|_| ())
    }

    fn wait(
        &self,
        reader: Option<&str>,
        timeout: Option<Duration>,
        present: bool,
    ) -> Result<String, TransportError> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let mut states = self.states(reader)?;
        loop {
            for s in &states {
                if s.name() == pcsc::PNP_NOTIFICATION() {
                    continue;
                }
                let ev = s.event_state();
                if !ev.is_empty() && ev.contains(pcsc::State::PRESENT) == present {
                    return Ok(s.name().to_string_lossy().into_owned());
                }
            }
            let left = match deadline {
                Some(d) => Some(
                    d.checked_duration_since(std::time::Instant::now())
                        .ok_or(TransportError::Timeout)?,
                ),
                None => None,
            };
            let pnp_changed = states.iter().any(|s| {
                s.name() == pcsc::PNP_NOTIFICATION()
                    && s.event_state().contains(pcsc::State::CHANGED)
            });
            if pnp_changed {
                states = self.states(reader)?;
            }
            for s in &mut states {
                s.sync_current_state();
            }
            self.ctx
                .get_status_change(left, &mut states)
                .map_err(map_pcsc)?;
        }
    }

    /// Wait for a card without blocking the caller: runs the wait on its own thread; cancel
    /// it with [`CardWatcher::canceller`] (taken before calling this).
    pub fn wait_for_card_async(
        self,
        reader: Option<String>,
        timeout: Option<Duration>,
    ) -> impl std::future::Future<Output = Result<String, TransportError>> + Send + 'static {
        let (tx, rx) = futures_channel::oneshot::channel();
        std::thread::spawn(move || {
            let r = self.wait_for_card(reader.as_deref(), timeout);
            let _ = tx.send(r);
        });
        async move { rx.await.unwrap_or(Err(TransportError::Cancelled)) }
    }
}
