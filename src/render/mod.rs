//! Reports: the projection as people read it. One file per format.

pub mod atomic;
pub mod chart;
pub mod csv;
pub mod export;
pub mod format;
pub mod html;
pub mod json;
pub mod live;
pub mod optimize;
pub mod table;
pub mod terminal;
pub mod whatif;
